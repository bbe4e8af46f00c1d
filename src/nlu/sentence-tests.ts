import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

/** A block of the sentence tests kept beside the intent data, hassil style: these sentences mean this intent (null: none). */
export interface SentenceTestBlock {
  sentences: string[];
  intent: { name: string; slots?: Record<string, unknown> } | null;
}

/** The sentence test files of a locale (`<intents>/<locale>/tests/*.yaml`), by file name; none when the folder is missing. */
export function readSentenceTests(intentsDir: string, locale: string): { file: string; blocks: SentenceTestBlock[] }[] {
  const dir = join(intentsDir, locale, "tests");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort().map((file) => {
    const { tests } = parseYaml(readFileSync(join(dir, file), "utf8")) as { tests?: SentenceTestBlock[] };
    return { file, blocks: tests ?? [] };
  });
}

/** The requests the sentence tests give as examples of each intent (out-of-domain ones left out). */
export function exampleRequests(intentsDir: string, locale: string): { intent: string; text: string }[] {
  return readSentenceTests(intentsDir, locale).flatMap(({ blocks }) =>
    blocks.flatMap((b) => (b.intent ? b.sentences.map((text) => ({ intent: b.intent!.name, text })) : [])));
}
