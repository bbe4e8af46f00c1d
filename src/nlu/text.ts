/** Turns what a person said (or a recognizer heard) into match tokens. */
export function tokenize(text: string, locale: string): string[] {
  return text
    .normalize("NFC")
    .toLocaleLowerCase(locale)
    .replace(/[’‘`´]/g, "'")
    .replace(/[-–—/]/g, " ")
    // Keep letters, digits and in-word apostrophes (what's, i'd); everything else separates words.
    .replace(/[^\p{L}\p{N}']+/gu, " ")
    .split(" ")
    .map((t) => t.replace(/^'+|'+$/g, ""))
    .filter((t) => t.length > 0);
}
