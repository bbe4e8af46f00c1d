import type { IntentMatcher } from "./matcher.js";
import type { SlotValue } from "./grammar.js";

/** Label for utterances that must match no intent. */
export const OUT_OF_DOMAIN = "OOD";

export interface LabelledUtterance {
  intent: string;
  text: string;
  slots: Record<string, SlotValue>;
  line: number;
}

export class LabelledFileError extends Error {}

/** `intent<TAB>utterance[<TAB>slot=value;slot=value]`, with an optional header line. */
export function parseLabelledTsv(content: string, file: string): LabelledUtterance[] {
  const rows: LabelledUtterance[] = [];
  content.split(/\r?\n/).forEach((raw, i) => {
    if (!raw.trim() || raw.startsWith("#") || (i === 0 && raw.startsWith("intent\t"))) return;
    const [intent, text, slotText = ""] = raw.split("\t");
    if (!intent || text === undefined) throw new LabelledFileError(`${file}:${i + 1}: expected intent<TAB>utterance[<TAB>slots]`);
    const slots: Record<string, SlotValue> = {};
    for (const pair of slotText.split(";").filter((p) => p.trim())) {
      const eq = pair.indexOf("=");
      if (eq < 1) throw new LabelledFileError(`${file}:${i + 1}: slot '${pair}' is not name=value`);
      const value = pair.slice(eq + 1).trim();
      const name = pair.slice(0, eq).trim();
      slots[name] = /^-?\d+$/.test(value) && name !== "pin" ? Number(value) : value;
    }
    rows.push({ intent: intent.trim(), text: text.trim(), slots, line: i + 1 });
  });
  return rows;
}

export interface EvalReport {
  total: number;
  intentAccuracy: number;
  slotPrecision: number;
  slotRecall: number;
  slotF1: number;
  confusions: { expected: string; got: string; count: number; examples: string[] }[];
  slotErrors: { text: string; expected: Record<string, SlotValue>; got: Record<string, SlotValue> }[];
}

/** Intent accuracy, slot F1 (over name=value pairs of rows whose intent is labelled) and the confusions. */
export function evaluate(matcher: IntentMatcher, rows: LabelledUtterance[]): EvalReport {
  let correct = 0, tp = 0, fp = 0, fn = 0;
  const confusions = new Map<string, { expected: string; got: string; count: number; examples: string[] }>();
  const slotErrors: EvalReport["slotErrors"] = [];
  for (const row of rows) {
    const best = matcher.parse(row.text).best;
    const got = best?.intent ?? OUT_OF_DOMAIN;
    if (got === row.intent) correct++;
    else {
      const key = `${row.intent}->${got}`;
      const c = confusions.get(key) ?? { expected: row.intent, got, count: 0, examples: [] };
      c.count++;
      if (c.examples.length < 3) c.examples.push(row.text);
      confusions.set(key, c);
    }
    if (row.intent === OUT_OF_DOMAIN) continue;
    const predicted = got === row.intent && best ? best.slots : {};
    const expectedPairs = Object.entries(row.slots);
    const predictedPairs = Object.entries(predicted).filter(([k]) => k !== "unit");
    const hit = expectedPairs.filter(([k, v]) => String(predicted[k]) === String(v)).length;
    tp += hit;
    fn += expectedPairs.length - hit;
    fp += predictedPairs.filter(([k, v]) => String(row.slots[k]) !== String(v)).length;
    if (hit !== expectedPairs.length || predictedPairs.length !== hit) slotErrors.push({ text: row.text, expected: row.slots, got: predicted });
  }
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  return {
    total: rows.length,
    intentAccuracy: rows.length === 0 ? 0 : correct / rows.length,
    slotPrecision: precision,
    slotRecall: recall,
    slotF1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    confusions: [...confusions.values()].sort((a, b) => b.count - a.count),
    slotErrors,
  };
}
