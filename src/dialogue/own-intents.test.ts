import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OWN_INTENTS } from "./own-intents.js";

describe("OWN_INTENTS", () => {
  it("is every intent talkcart ships, in each language (a new one must be added here)", () => {
    for (const locale of ["en", "de"]) {
      const shipped = readdirSync(join(import.meta.dirname, "../../intents", locale)).filter((f) => /^[A-Z]\w*\.yaml$/.test(f)).map((f) => f.replace(/\.yaml$/, ""));
      expect(new Set(shipped), locale).toEqual(OWN_INTENTS);
    }
  });
});
