import { readFileSync, existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dictionaryOfText } from "./dictionary-text.js";
import { DEFAULT_DICT } from "./jsgf.js";

describe("dictionaryOfText", () => {
  const dict = dictionaryOfText(
    ["read R EH D", "read's R EH D Z", "read(2) R IY D", "reader R IY D ER", "", "bad-line", "hello HH AH L OW\r", "x(y) EH K S", "tail T EY L"].join("\n"),
  );

  it("gives every pronunciation of a word in file order, alternates after other words included", () => {
    expect(dict.variants("read")).toEqual(["R EH D", "R IY D"]);
    expect(dict.phones("read")).toBe("R EH D");
    expect(dict.variants("read's")).toEqual(["R EH D Z"]);
    expect(dict.variants("reader")).toEqual(["R IY D ER"]);
  });

  it("knows only whole words: no prefixes, no alternate markers, nothing for lines without a pronunciation", () => {
    expect(dict.has("rea")).toBe(false);
    expect(dict.has("read(2)")).toBe(false);
    expect(dict.has("bad-line")).toBe(false);
    expect(dict.has("")).toBe(false);
    expect(dict.phones("nothing")).toBeUndefined();
    expect(dict.variants("nothing")).toEqual([]);
  });

  it("reads Windows line ends, a last line without one, and parentheses that are not an alternate", () => {
    expect(dict.phones("hello")).toBe("HH AH L OW");
    expect(dict.phones("tail")).toBe("T EY L");
    expect(dict.phones("x(y)")).toBe("EH K S");
  });

  it.skipIf(!existsSync(DEFAULT_DICT))("reads the whole Debian cmudict the same as a word map would", () => {
    const text = readFileSync(DEFAULT_DICT, "utf8");
    const expected = new Map<string, string[]>();
    for (const line of text.split("\n")) {
      const space = line.indexOf(" ");
      if (space <= 0) continue;
      const word = line.slice(0, space).replace(/\(\d+\)$/, "");
      expected.set(word, [...(expected.get(word) ?? []), line.slice(space + 1).trim()]);
    }
    const indexed = dictionaryOfText(text);
    const differing = [...expected].filter(([word, variants]) => indexed.variants(word).join("|") !== variants.join("|"));
    expect(expected.size).toBeGreaterThan(100_000);
    expect(differing).toEqual([]);
  });
});
