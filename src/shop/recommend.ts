import type { Product, Recommendation, RecommendReason } from "./types.js";

/**
 * Scores substitutes for `original` for one shopper. Same category matters most, then a nearby
 * price, then the shopper's own habits (brands and products they bought), then shared tags.
 */
export function rankSimilar(original: Product, candidates: Product[], bought: Map<string, number>, brandCounts: Map<string, number>): Recommendation[] {
  return candidates
    .filter((c) => c.id !== original.id && c.stock > 0 && c.department === original.department)
    .map((c) => {
      const reasons: RecommendReason[] = [];
      let score = 0;
      if (c.category === original.category) { score += 3; reasons.push("same-category"); }
      const priceGap = Math.abs(c.price - original.price) / Math.max(c.price, original.price, 1);
      score += 2 * (1 - Math.min(priceGap, 1));
      if (priceGap <= 0.25) reasons.push("similar-price");
      const brandBuys = brandCounts.get(c.brand) ?? 0;
      if (brandBuys > 0) { score += Math.min(2, 0.75 + 0.25 * brandBuys); reasons.push("brand-you-buy"); }
      else if (c.brand === original.brand) { score += 0.75; reasons.push("same-brand"); }
      if ((bought.get(c.id) ?? 0) > 0) { score += 1; reasons.push("bought-before"); }
      score += tagOverlap(original, c);
      if (original.ages && c.ages && c.ages.min <= original.ages.max && original.ages.min <= c.ages.max) score += 0.5;
      return { product: c, reasons, score };
    })
    .sort((a, b) => b.score - a.score || a.product.price - b.product.price);
}

/** Suggestions for a wish (an age and/or a set of matching products), habits first. */
export function rankForWish(candidates: Product[], wish: { age?: number }, bought: Map<string, number>, brandCounts: Map<string, number>): Recommendation[] {
  return candidates
    .filter((c) => c.stock > 0 && (wish.age === undefined || (c.ages !== null && c.ages.min <= wish.age && wish.age <= c.ages.max)))
    .map((c, rank) => {
      const reasons: RecommendReason[] = wish.age !== undefined ? ["age-fits"] : [];
      // Earlier search hits fit the wish better; habits lift what this shopper likes.
      let score = 1 / (1 + rank * 0.1);
      if ((brandCounts.get(c.brand) ?? 0) > 0) { score += 0.5; reasons.push("brand-you-buy"); }
      if ((bought.get(c.id) ?? 0) > 0) { score += 0.3; reasons.push("bought-before"); }
      return { product: c, reasons, score };
    })
    .sort((a, b) => b.score - a.score);
}

function tagOverlap(a: Product, b: Product): number {
  const shared = a.tags.filter((t) => b.tags.includes(t)).length;
  const all = new Set([...a.tags, ...b.tags]).size;
  return all === 0 ? 0 : shared / all;
}
