import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { IntentFileError, readYaml } from "./load-intents.js";

/** A block of the sentence tests kept beside the intent data, hassil style: these sentences mean this intent (null: none). */
export interface SentenceTestBlock {
  sentences: string[];
  intent: { name: string; slots?: Record<string, unknown> } | null;
}

/**
 * The sentence test files of a locale (`<intents>/<locale>/tests/*.yaml`), by file name; none when
 * the folder is missing. A file that is not such a list is an IntentFileError naming it.
 */
export function readSentenceTests(intentsDir: string, locale: string): { file: string; blocks: SentenceTestBlock[] }[] {
  const dir = join(intentsDir, locale, "tests");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort().map((file) => {
    const shownAs = relative(process.cwd(), join(dir, file));
    const tests = (readYaml(join(dir, file), shownAs).root?.toJSON() as { tests?: unknown } | null)?.tests;
    if (!Array.isArray(tests)) throw new IntentFileError(shownAs, 0, "no 'tests:' list of sentence blocks");
    tests.forEach((b: Partial<SentenceTestBlock> | null, i) => {
      const where = `test block ${i + 1}`;
      if (!Array.isArray(b?.sentences) || !b.sentences.every((s) => typeof s === "string")) throw new IntentFileError(shownAs, 0, `${where} has no 'sentences:' list of strings`);
      if (b.intent !== null && typeof b.intent?.name !== "string") throw new IntentFileError(shownAs, 0, `${where}: 'intent:' needs a 'name:' (or is null for sentences that mean nothing)`);
    });
    return { file, blocks: tests as SentenceTestBlock[] };
  });
}

/** The requests the sentence tests give as examples of each intent (out-of-domain ones left out). */
export function exampleRequests(intentsDir: string, locale: string): { intent: string; text: string }[] {
  return readSentenceTests(intentsDir, locale).flatMap(({ blocks }) =>
    blocks.flatMap((b) => (b.intent ? b.sentences.map((text) => ({ intent: b.intent!.name, text })) : [])));
}
