import MiniSearch from "minisearch";
import { distance } from "fastest-levenshtein";
import type { Category, Locale, Product } from "./types.js";
import type { CatalogScorer } from "../nlu/matcher.js";
import { tokenize } from "../nlu/text.js";
import { inWords, unitTerm } from "../voice/speech-format.js";

interface Doc {
  id: string;
  name: string;
  brand: string;
  kind: string;
  terms: string;
  tags: string;
}

/** Words that carry no product meaning (articles, prepositions); a phrase made only of them names nothing. */
const FILLER: Record<Locale, Set<string>> = {
  en: new Set(["the", "a", "an", "some", "my", "of", "for", "me", "any", "please", "in", "on", "to", "with", "and", "or", "at", "it", "this", "that"]),
  de: new Set(["der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "etwas", "mein", "meinen", "meine", "von", "für", "bitte",
    "in", "im", "mit", "und", "oder", "zu", "zum", "zur", "auf", "aus", "es", "dies", "diese", "dieses"]),
};

/**
 * Full-text search over the catalog (MiniSearch: BM25 with fuzzy and prefix matching), plus a
 * word-level scorer the intent matcher uses to judge how much of a phrase names something we sell.
 */
export class CatalogIndex {
  private readonly search = new Map<Locale, MiniSearch<Doc>>();
  private readonly vocabulary = new Map<Locale, Set<string>>();
  private readonly productWords = new Map<Locale, Map<string, Set<string>>>();
  private readonly plurals = new Map<Locale, Set<string>>();

  constructor(products: Product[], categories: Category[]) {
    const categoryById = new Map(categories.map((c) => [c.id, c]));
    for (const locale of ["en", "de"] as Locale[]) {
      const index = new MiniSearch<Doc>({
        fields: ["name", "brand", "kind", "terms", "tags"],
        processTerm: (t) => normalizeTerm(t, locale),
        // Typo tolerance grows with the word: none for short words ("eier" must not find "Tier"), one edit from 5 letters, two from 9.
        searchOptions: { boost: { name: 3, brand: 2, kind: 2, terms: 2 }, fuzzy: (t) => (t.length >= 9 ? 2 : t.length >= 5 ? 1 : false), prefix: (t) => t.length >= 5 },
      });
      const vocab = new Set<string>();
      const wordsOf = new Map<string, Set<string>>();
      const plurals = new Set<string>();
      for (const c of categories) if (c.plural[locale] && c.plural[locale] !== c.name[locale]) plurals.add(lastWord(c.plural[locale], locale));
      const docs = products.map((p) => {
        pluralsAmong(p.terms[locale] ?? [], locale).forEach((w) => plurals.add(w));
        const c = categoryById.get(p.category);
        const local = p.i18n?.[locale];
        const doc: Doc = {
          id: p.id,
          name: `${local?.name ?? p.name} ${variantWords(Object.values(local?.variant ?? p.variant).join(" "), locale)}`,
          brand: p.brand,
          kind: [c?.name[locale], c?.plural[locale]].filter(Boolean).join(" "),
          terms: (p.terms[locale] ?? []).join(" "),
          tags: p.tags.join(" "),
        };
        const own = new Set<string>();
        for (const field of [doc.name, doc.brand, doc.kind, doc.terms]) {
          for (const w of tokenize(field, locale)) own.add(normalizeTerm(w, locale));
        }
        own.forEach((w) => vocab.add(w));
        wordsOf.set(p.id, own);
        return doc;
      });
      index.addAll(docs);
      this.search.set(locale, index);
      this.vocabulary.set(locale, vocab);
      this.productWords.set(locale, wordsOf);
      this.plurals.set(locale, plurals);
    }
  }

  /**
   * Whether every word of the query describes this product ("coffee" covers Lavazza Crema;
   * "lavazza espresso italiano" does not): only then may a shopper's usual product stand in for it.
   */
  covers(productId: string, query: string, locale: Locale): boolean {
    const own = this.productWords.get(locale)!.get(productId);
    if (!own) return false;
    return tokenize(query, locale).filter((w) => !FILLER[locale].has(w)).every((w) => {
      const t = normalizeTerm(w, locale);
      return own.has(t) || nearWord(t, own);
    });
  }

  /** Whether a spoken word is a plural the catalog knows ("bananas", "Äpfel", "Plüschtiere"). */
  isPlural(word: string, locale: Locale): boolean {
    return this.plurals.get(locale)!.has(word.toLocaleLowerCase(locale));
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
          else if (nearWord(t, vocab)) sum += 0.8;
        }
        return content === 0 ? 0 : sum / words.length;
      },
    };
  }
}

/**
 * A search stem: lower-case with simple plurals folded, so "legos" finds LEGO and "Bananen",
 * "Äpfel" or "Einhörner" find Banane, Apfel and Einhorn; a unit in any spelling becomes the
 * replies' word for it ("grammes", "kilograms", "liters" -> gram, kilo, litre). Index and queries
 * use the same stems.
 */
export function normalizeTerm(term: string, locale: Locale): string {
  const t = term.toLocaleLowerCase(locale);
  const unit = unitTerm(t, locale); // "grammes", "kilograms", "liters": one term per unit, as the variants are said
  if (unit) return unit;
  if (locale === "en") {
    if (t.length <= 3) return t;
    if (t.endsWith("ies") && t.length > 4) return `${t.slice(0, -3)}y`;
    if (/(ches|shes|sses|xes)$/.test(t)) return t.slice(0, -2);
    if (t.endsWith("s") && !t.endsWith("ss")) return t.slice(0, -1);
    return t;
  }
  const plain = t.replace(/ä/g, "a").replace(/ö/g, "o").replace(/ü/g, "u").replace(/ß/g, "ss");
  if (plain.length <= 4) return plain;
  return plain.replace(/(er|en|e|n|s)$/, "");
}

/** One slip of the tongue (or of the recognizer) away from a known word: "lavaza" for "lavazza". */
function nearWord(word: string, known: Set<string>): boolean {
  return word.length >= 4 && [...known].some((v) => Math.abs(v.length - word.length) <= 1 && distance(v, word) <= 1);
}

/** "500 g" and "500 g five hundred grams": the variant as written and as a recognizer hears it said. */
function variantWords(variant: string, locale: Locale): string {
  const said = inWords(variant, locale);
  return said === variant ? variant : `${variant} ${said}`;
}

function lastWord(phrase: string, locale: Locale): string {
  const words = tokenize(phrase, locale);
  return words[words.length - 1] ?? "";
}

/** In a list of search terms that names both forms ("Banane", "Bananen"; "Apfel", "Äpfel"), the plural ones. */
function pluralsAmong(terms: string[], locale: Locale): string[] {
  const words = [...new Set(terms.map((t) => lastWord(t, locale)))];
  const plain = (w: string) => w.replace(/ä/g, "a").replace(/ö/g, "o").replace(/ü/g, "u");
  // A plural is longer than its singular ("bananen") or differs from it only by an umlaut ("äpfel").
  const pluralOf = (w: string, s: string) => s !== w && plain(w).startsWith(plain(s)) && w.length - s.length <= 3 &&
    (w.length > s.length || (w !== plain(w) && s === plain(s)));
  return words.filter((w) => words.some((s) => pluralOf(w, s)));
}
