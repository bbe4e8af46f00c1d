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

/** Edit distance between two token sequences (words, phones): insertions, deletions, substitutions. */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
