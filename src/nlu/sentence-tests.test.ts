import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exampleRequests, readSentenceTests } from "./sentence-tests.js";

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
/** An intents folder whose en/tests holds these files. */
function intentsWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "talkcart-sentence-tests-"));
  made.push(dir);
  mkdirSync(join(dir, "en", "tests"), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "en", "tests", name), text);
  return dir;
}

describe("sentence tests beside the intent files", () => {
  it("gives each intent's example requests, not the sentences that mean nothing; none without a tests folder", () => {
    const dir = intentsWith({
      "Order.yaml": "language: en\ntests:\n  - sentences: [\"a latte please\", \"one latte\"]\n    intent: { name: Order, slots: { drink: latte } }\n",
      "_ood.yaml": "language: en\ntests:\n  - sentences: [\"turn on the lights\"]\n    intent: null\n",
    });
    expect(exampleRequests(dir, "en")).toEqual([{ intent: "Order", text: "a latte please" }, { intent: "Order", text: "one latte" }]);
    expect(readSentenceTests(dir, "en").map((t) => t.file)).toEqual(["Order.yaml", "_ood.yaml"]);
    expect(exampleRequests(dir, "de")).toEqual([]);
  });

  it("names the file (and line) of a test file that is not a list of sentence blocks", () => {
    expect(() => readSentenceTests(intentsWith({ "Bad.yaml": "tests:\n  - sentences: [\"a latte\"\n" }), "en")).toThrow(/tests\/Bad\.yaml:\d+: invalid YAML/);
    expect(() => readSentenceTests(intentsWith({ "Typo.yaml": "test:\n  - sentences: [a]\n" }), "en")).toThrow(/tests\/Typo\.yaml: no 'tests:' list/);
    expect(() => readSentenceTests(intentsWith({ "NoSentences.yaml": "tests:\n  - intent: { name: Order }\n" }), "en")).toThrow(/NoSentences\.yaml: test block 1 has no 'sentences:' list/);
    expect(() => readSentenceTests(intentsWith({ "NoName.yaml": "tests:\n  - sentences: [a]\n    intent: { name: Order }\n  - sentences: [b]\n    intent: { slots: {} }\n" }), "en")).toThrow(/NoName\.yaml: test block 2: 'intent:' needs a 'name:'/);
  });
});
