import { describe, expect, it } from "vitest";
import { editDistance, tokenize } from "./text.js";

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions between token sequences", () => {
    expect(editDistance(tokenize("add two packs of coffee", "en"), tokenize("add two packs of coffee", "en"))).toBe(0);
    expect(editDistance(tokenize("add two packs of coffee", "en"), tokenize("add to packs coffee", "en"))).toBe(2);
    expect(editDistance(["T", "AO", "K"], ["T", "AA", "K", "K"])).toBe(2);
    expect(editDistance([], ["a", "b"])).toBe(2);
    expect(editDistance(["a", "b"], [])).toBe(2);
  });
});
