import type { PronouncingDictionary } from "./jsgf.js";

/**
 * A pronouncing dictionary looked up in its own text ("word PH ON ES" per line, alternates as
 * "word(2) ...") through a hash table of line starts.
 *
 * The full cmudict has 134k lines and is needed only while a grammar is built. As a Map of words it
 * kept 22 MB on the JS heap and peaked at 44 MB while parsing. V8 keeps its heap once grown, so that
 * peak stayed in the assistant's RSS. This index costs the text (3.3 MB) and a 2 MB table, and
 * parsing makes no garbage.
 */
export function dictionaryOfText(text: string): PronouncingDictionary {
  let lines = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  const size = 2 ** Math.ceil(Math.log2(2 * (lines + 1)));
  const mask = size - 1;
  // Line starts, by hash of their word, linear probing. A word's lines stay in file order along its
  // probe sequence (a later one can only land after an earlier one), so the first pronunciation is found first.
  const table = new Int32Array(size).fill(-1);
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline;
    const space = text.indexOf(" ", start);
    if (space > start && space < end) {
      let slot = hashRange(text, start, wordEnd(text, start, space)) & mask;
      while (table[slot] !== -1) slot = (slot + 1) & mask;
      table[slot] = start;
    }
    start = end + 1;
  }

  /** Where the lines of this word start, in file order. */
  const linesOf = (word: string): number[] => {
    const starts: number[] = [];
    for (let slot = hashRange(word, 0, word.length) & mask; table[slot] !== -1; slot = (slot + 1) & mask) {
      const start = table[slot];
      if (wordEnd(text, start, text.indexOf(" ", start)) - start === word.length && text.startsWith(word, start)) starts.push(start);
    }
    return starts;
  };
  const pronunciation = (start: number): string => {
    const space = text.indexOf(" ", start);
    const newline = text.indexOf("\n", space);
    return text.slice(space + 1, newline < 0 ? text.length : newline).trim();
  };
  const variants = (word: string): string[] => linesOf(word).map(pronunciation);
  return {
    has: (word) => linesOf(word).length > 0,
    phones: (word) => {
      const [first] = linesOf(word);
      return first === undefined ? undefined : pronunciation(first);
    },
    variants,
  };
}

/** Where the word of a line ends: before an alternate's "(2)", else at the space. */
function wordEnd(text: string, start: number, space: number): number {
  if (text.charCodeAt(space - 1) !== 41 /* ) */) return space;
  const open = text.lastIndexOf("(", space - 1);
  return open > start && /^\(\d+\)$/.test(text.slice(open, space)) ? open : space;
}

/** FNV-1a over UTF-16 code units. */
function hashRange(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
