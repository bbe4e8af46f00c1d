import MiniSearch from "minisearch";
import { distance } from "fastest-levenshtein";
import type { Category, Locale, Product } from "./types.js";
import type { CatalogScorer } from "../nlu/matcher.js";
import { tokenize } from "../nlu/text.js";

interface Doc {
  id: string;
  name: string;
  brand: string;
  kind: string;
  terms: string;
  tags: string;
}

/** Words that carry no product meaning; a phrase made only of them names nothing. */
const FILLER: Record<Locale, Set<string>> = {
  en: new Set(["the", "a", "an", "some", "my", "of", "for", "me", "any", "please"]),
  de: new Set(["der", "die", "das", "den", "dem", "ein", "eine", "einen", "etwas", "mein", "meinen", "meine", "von", "für", "bitte"]),
};

/**
 * Full-text search over the catalog (MiniSearch: BM25 with fuzzy and prefix matching), plus a
 * word-level scorer the intent matcher uses to judge how much of a phrase names something we sell.
 */
export class CatalogIndex {
  private readonly search = new Map<Locale, MiniSearch<Doc>>();
  private readonly vocabulary = new Map<Locale, Set<string>>();

  constructor(products: Product[], categories: Category[]) {
    const categoryById = new Map(categories.map((c) => [c.id, c]));
    for (const locale of ["en", "de"] as Locale[]) {
      const index = new MiniSearch<Doc>({
        fields: ["name", "brand", "kind", "terms", "tags"],
        processTerm: (t) => normalizeTerm(t, locale),
        searchOptions: { boost: { name: 3, brand: 2, kind: 2, terms: 2 }, fuzzy: 0.2, prefix: (t) => t.length >= 4 },
      });
      const vocab = new Set<string>();
      const docs = products.map((p) => {
        const c = categoryById.get(p.category);
        const doc: Doc = {
          id: p.id,
          name: `${p.name} ${Object.values(p.variant).join(" ")}`,
          brand: p.brand,
          kind: [c?.name[locale], c?.plural[locale]].filter(Boolean).join(" "),
          terms: (p.terms[locale] ?? []).join(" "),
          tags: p.tags.join(" "),
        };
        for (const field of [doc.name, doc.brand, doc.kind, doc.terms]) {
          for (const w of tokenize(field, locale)) vocab.add(normalizeTerm(w, locale));
        }
        return doc;
      });
      index.addAll(docs);
      this.search.set(locale, index);
      this.vocabulary.set(locale, vocab);
    }
  }

  /** Product ids best matching a spoken query, best first. */
  find(query: string, locale: Locale, limit = 20): { id: string; score: number }[] {
    const index = this.search.get(locale)!;
    const words = tokenize(query, locale).filter((w) => !FILLER[locale].has(w)).join(" ");
    if (!words) return [];
    // Prefer products matching every word; fall back to any word when nothing matches all.
    let hits = index.search(words, { combineWith: "AND" });
    if (hits.length === 0) hits = index.search(words, { combineWith: "OR" });
    return hits.slice(0, limit).map((h) => ({ id: h.id as string, score: h.score }));
  }

  /** All the words shoppers can use for products in this locale (for recognizer grammars). */
  words(locale: Locale): string[] {
    return [...this.vocabulary.get(locale)!];
  }

  scorer(locale: Locale): CatalogScorer {
    const vocab = this.vocabulary.get(locale)!;
    const filler = FILLER[locale];
    return {
      score: (phrase) => {
        const words = tokenize(phrase, locale);
        let sum = 0;
        let content = 0;
        for (const w of words) {
          if (filler.has(w)) { sum += 0.5; continue; }
          content++;
          const t = normalizeTerm(w, locale);
          if (vocab.has(t)) sum += 1;
          else if (t.length >= 4 && [...vocab].some((v) => Math.abs(v.length - t.length) <= 1 && distance(v, t) <= 1)) sum += 0.8;
        }
        return content === 0 ? 0 : sum / words.length;
      },
    };
  }
}

/** Lower-case and fold simple plurals, so "legos" finds LEGO and "Bananen" finds Banane. */
export function normalizeTerm(term: string, locale: Locale): string {
  const t = term.toLocaleLowerCase(locale);
  if (t.length <= 3) return t;
  if (locale === "en") {
    if (t.endsWith("ies") && t.length > 4) return `${t.slice(0, -3)}y`;
    if (/(ches|shes|sses|xes)$/.test(t)) return t.slice(0, -2);
    if (t.endsWith("s") && !t.endsWith("ss")) return t.slice(0, -1);
    return t;
  }
  if (t.endsWith("en") && t.length > 5) return t.slice(0, -2);
  if (/[ren]$/.test(t) && t.length > 5) return t.slice(0, -1);
  return t;
}
