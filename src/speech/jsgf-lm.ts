import type { JsgfExp } from "./jsgf.js";

/**
 * A trigram language model (ARPA text) estimated from sentences sampled from the JSGF rules.
 *
 * Where the intent grammar is too large for pocketsphinx's grammar search (one lexicon tree per
 * grammar state), its n-gram search (one shared lexicon tree) runs the same vocabulary far faster
 * and in less memory. The model is trained on the grammar's own language: every intent equally
 * likely, within an intent every sentence, within a list every value (a catalog phrase, a number).
 */

export interface LmOptions {
  /** How many sentences to sample (default 40000). */
  sentences?: number;
  /** Seed of the sampler (default 1): the same grammar gives the same model. */
  seed?: number;
  /** Rules sampled as whole phrases, each phrase equally likely (default: lists and numbers). */
  phraseRules?: (name: string) => boolean;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every word sequence of a small rule (undefined when there are more than `limit`). */
function enumerate(e: JsgfExp, rules: Map<string, JsgfExp>, limit: number): string[][] | undefined {
  switch (e.kind) {
    case "word": return [[e.word]];
    case "ref": return enumerate(rules.get(e.name)!, rules, limit);
    case "opt": {
      const inner = enumerate(e.item, rules, limit);
      return inner && inner.length + 1 <= limit ? [[], ...inner] : undefined;
    }
    case "alt": {
      const out: string[][] = [];
      for (const o of e.options) {
        const x = enumerate(o, rules, limit);
        if (!x || out.length + x.length > limit) return undefined;
        out.push(...x);
      }
      return out;
    }
    case "seq": {
      let acc: string[][] = [[]];
      for (const item of e.items) {
        const x = enumerate(item, rules, limit);
        if (!x || acc.length * x.length > limit) return undefined;
        acc = acc.flatMap((a) => x.map((b) => [...a, ...b]));
      }
      return acc;
    }
  }
}

/** Random sentences of the rule `start`. */
export function sampleSentences(rules: Map<string, JsgfExp>, start: string, count: number, options: LmOptions = {}): string[][] {
  const random = mulberry32(options.seed ?? 1);
  const isPhraseRule = options.phraseRules ?? ((n: string) => /^(l_|n_|d_|digit$)/.test(n));
  const phrases = new Map<string, string[][] | undefined>();
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const sample = (e: JsgfExp, out: string[]) => {
    switch (e.kind) {
      case "word": out.push(e.word); return;
      case "seq": for (const i of e.items) sample(i, out); return;
      case "alt": sample(pick(e.options), out); return;
      case "opt": if (random() < 0.5) sample(e.item, out); return;
      case "ref": {
        if (isPhraseRule(e.name)) {
          if (!phrases.has(e.name)) phrases.set(e.name, enumerate(rules.get(e.name)!, rules, 20_000));
          const list = phrases.get(e.name);
          if (list) { out.push(...pick(list)); return; }
        }
        sample(rules.get(e.name)!, out);
      }
    }
  };
  const sentences: string[][] = [];
  for (let i = 0; i < count; i++) {
    const words: string[] = [];
    sample(rules.get(start)!, words);
    if (words.length) sentences.push(words);
  }
  return sentences;
}

/**
 * An interpolated Witten-Bell trigram model in ARPA backoff form. `vocabulary` words never seen in
 * the sentences still get a unigram share, so every grammar word can be recognized.
 */
export function trigramArpa(sentences: string[][], vocabulary: string[] = []): string {
  const BOS = "<s>";
  const EOS = "</s>";
  const counts = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const s of sentences) {
    const w = [BOS, ...s, EOS];
    for (let i = 1; i < w.length; i++) {
      add(counts[0], w[i]);
      add(counts[1], `${w[i - 1]} ${w[i]}`);
      if (i >= 2) add(counts[2], `${w[i - 2]} ${w[i - 1]} ${w[i]}`);
    }
  }

  const vocab = new Set<string>([...counts[0].keys(), ...vocabulary]);
  vocab.delete(BOS);
  // History statistics: total count c(h) and number of distinct followers T(h), per order.
  const hist = [new Map<string, [number, number]>(), new Map<string, [number, number]>()];
  for (let n = 1; n <= 2; n++) {
    for (const [k, c] of counts[n]) {
      const h = k.slice(0, k.lastIndexOf(" "));
      const s = hist[n - 1].get(h) ?? [0, 0];
      hist[n - 1].set(h, [s[0] + c, s[1] + 1]);
    }
  }
  const followers1 = new Map<string, string[]>();
  for (const k of counts[1].keys()) { const [h, w] = k.split(" "); (followers1.get(h) ?? followers1.set(h, []).get(h)!).push(w); }
  const followers2 = new Map<string, string[]>();
  for (const k of counts[2].keys()) { const i = k.lastIndexOf(" "); const h = k.slice(0, i); (followers2.get(h) ?? followers2.set(h, []).get(h)!).push(k.slice(i + 1)); }
  // Unigrams: Witten-Bell against a uniform distribution over the vocabulary.
  const total = [...counts[0].values()].reduce((a, b) => a + b, 0);
  const types = counts[0].size;
  const uniform = 1 / vocab.size;
  const p1 = new Map<string, number>();
  for (const w of vocab) p1.set(w, ((counts[0].get(w) ?? 0) + types * uniform) / (total + types));
  const p2 = new Map<string, number>();
  for (const [k, c] of counts[1]) {
    const [h, w] = k.split(" ");
    const [ch, th] = hist[0].get(h)!;
    p2.set(k, (c + th * p1.get(w)!) / (ch + th));
  }
  const lower2 = (h: string, w: string) => p2.get(`${h} ${w}`) ?? bow(1, h) * p1.get(w)!;
  const bows = [new Map<string, number>(), new Map<string, number>()];
  const p3 = new Map<string, number>();
  for (const [k, c] of counts[2]) {
    const parts = k.split(" ");
    const h = `${parts[0]} ${parts[1]}`;
    const [ch, th] = hist[1].get(h)!;
    p3.set(k, (c + th * lower2(parts[1], parts[2])) / (ch + th));
  }
  function bow(order: 1 | 2, h: string): number {
    const cache = bows[order - 1];
    if (cache.has(h)) return cache.get(h)!;
    let seen = 0;
    let seenLower = 0;
    const stats = hist[order - 1].get(h);
    if (!stats) { cache.set(h, 1); return 1; }
    const followers = order === 1 ? followers1.get(h) ?? [] : followers2.get(h) ?? [];
    for (const w of followers) {
      if (order === 1) { seen += p2.get(`${h} ${w}`)!; seenLower += p1.get(w)!; }
      else { const h2 = h.slice(h.indexOf(" ") + 1); seen += p3.get(`${h} ${w}`)!; seenLower += lower2(h2, w); }
    }
    const b = seenLower >= 1 ? 1 : Math.max(1e-12, (1 - seen) / (1 - seenLower));
    cache.set(h, b);
    return b;
  }

  const log = (p: number) => Math.log10(p).toFixed(4);
  const lines = ["\\data\\", `ngram 1=${vocab.size + 1}`, `ngram 2=${counts[1].size}`, `ngram 3=${counts[2].size}`, "", "\\1-grams:"];
  lines.push(`-99.0000 ${BOS} ${log(bow(1, BOS))}`);
  for (const w of [...vocab].sort()) lines.push(`${log(p1.get(w)!)} ${w}${w === EOS ? "" : ` ${log(bow(1, w))}`}`);
  lines.push("", "\\2-grams:");
  for (const [k, p] of p2) {
    const has3 = followers2.has(k);
    lines.push(`${log(p)} ${k}${has3 ? ` ${log(bow(2, k))}` : ""}`);
  }
  lines.push("", "\\3-grams:");
  for (const [k, p] of p3) lines.push(`${log(p)} ${k}`);
  lines.push("", "\\end\\", "");
  return lines.join("\n");
}
