import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from "yaml";
import { parseTemplate, references, TemplateSyntaxError, type TemplateNode } from "./template.js";
import { tokenize } from "./text.js";
import { intentResponseProblems } from "../voice/check-responses.js";
import { OWN_INTENTS } from "../dialogue/own-intents.js";
import type { Grammar, ListDef, Sentence, SlotValue, Slots } from "./grammar.js";

/** A mistake in an intent file, reported as `file:line: what is wrong`. */
export class IntentFileError extends Error {
  constructor(readonly file: string, readonly line: number, readonly problem: string) {
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
  }
}

export interface YamlFile {
  path: string;
  root: YamlNode | null;
  lineOf(node: YamlNode | null | undefined): number;
}

/** A YAML file of the intents folder, parsed with line numbers; invalid YAML is an IntentFileError naming file and line. */
export function readYaml(path: string, shownAs: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(path, "utf8"), { lineCounter, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new IntentFileError(shownAs, lineCounter.linePos(err.pos[0]).line, `invalid YAML: ${err.message.split("\n")[0]}`);
  }
  return { path: shownAs, root: (doc.contents as YamlNode | null) ?? null, lineOf };
}

/** Map entries of a YAML mapping node as [key, valueNode] pairs. */
function entries(file: YamlFile, node: YamlNode | null | undefined, what: string): [string, YamlNode | null][] {
  if (node == null) return [];
  if (!isMap(node)) throw new IntentFileError(file.path, file.lineOf(node), `${what} must be a mapping`);
  return node.items.map((pair) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    return [key, (pair.value as YamlNode | null) ?? null];
  });
}

function items(file: YamlFile, node: YamlNode | null | undefined, what: string): YamlNode[] {
  if (node == null) return [];
  if (!isSeq(node)) throw new IntentFileError(file.path, file.lineOf(node), `${what} must be a list`);
  return node.items as YamlNode[];
}

function child(file: YamlFile, node: YamlNode | null | undefined, key: string): YamlNode | null {
  return entries(file, node, "this").find(([k]) => k === key)?.[1] ?? null;
}

function scalar(file: YamlFile, node: YamlNode | null, what: string): string | number {
  if (!node || !isScalar(node) || (typeof node.value !== "string" && typeof node.value !== "number")) {
    throw new IntentFileError(file.path, file.lineOf(node), `${what} must be a string or number`);
  }
  return node.value;
}

function template(file: YamlFile, node: YamlNode | null, locale: string): { text: string; node: TemplateNode } {
  const text = String(scalar(file, node, "a template"));
  try {
    return { text, node: parseTemplate(text, (w) => tokenize(w, locale)) };
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new IntentFileError(file.path, file.lineOf(node), e.message);
    throw e;
  }
}

function numberField(file: YamlFile, node: YamlNode | null, key: string): number {
  const value = child(file, node, key);
  const n = value && isScalar(value) ? Number(value.value) : NaN;
  if (!Number.isInteger(n)) throw new IntentFileError(file.path, file.lineOf(value ?? node), `'${key}' must be a whole number`);
  return n;
}

function parseList(file: YamlFile, name: string, node: YamlNode | null, locale: string): ListDef {
  const keys = entries(file, node, `list '${name}'`).map(([k]) => k);
  if (keys.includes("catalog")) return { kind: "catalog" };
  if (keys.includes("range")) {
    const range = child(file, node, "range");
    return { kind: "range", from: numberField(file, range, "from"), to: numberField(file, range, "to") };
  }
  if (keys.includes("digits")) {
    const digits = child(file, node, "digits");
    return { kind: "digits", min: numberField(file, digits, "min"), max: numberField(file, digits, "max") };
  }
  if (keys.includes("values")) {
    const values = items(file, child(file, node, "values"), `list '${name}' values`).map((item) => {
      if (isScalar(item)) {
        const { node: tpl } = template(file, item, locale);
        return { node: tpl, out: item.value as SlotValue };
      }
      const inNode = child(file, item, "in");
      if (!inNode) throw new IntentFileError(file.path, file.lineOf(item), `a value of list '${name}' needs 'in'`);
      const outNode = child(file, item, "out");
      const { node: tpl, text } = template(file, inNode, locale);
      return { node: tpl, out: outNode ? scalar(file, outNode, "'out'") : text };
    });
    return { kind: "values", values };
  }
  throw new IntentFileError(file.path, file.lineOf(node), `list '${name}' needs one of: values, range, digits, catalog`);
}

function fixedSlots(file: YamlFile, node: YamlNode | null): Slots {
  const slots: Slots = {};
  for (const [key, value] of entries(file, node, "slots")) slots[key] = scalar(file, value, `slot '${key}'`);
  return slots;
}

function checkLanguage(file: YamlFile, locale: string) {
  const lang = child(file, file.root, "language");
  if (lang && isScalar(lang) && String(lang.value) !== locale) {
    throw new IntentFileError(file.path, file.lineOf(lang), `language is '${lang.value}' but the file is in the '${locale}' folder`);
  }
}

/** Loads and validates `intents/<locale>/`: every problem names its file and line. */
export function loadGrammar(intentsDir: string, locale: string): Grammar {
  const dir = join(intentsDir, locale);
  const shown = (p: string) => relative(process.cwd(), p) || p;
  if (!existsSync(dir)) {
    throw new IntentFileError(shown(dir), 0, `no intent files for locale '${locale}' (expected a folder with _common.yaml)`);
  }
  const grammar: Grammar = {
    locale, dir, intents: [], sentences: [], lists: {}, rules: {}, numbers: [], digitWords: new Map(), skipWords: [], responses: {},
  };
  const ruleLines = new Map<string, { file: string; line: number }>();

  const commonPath = join(dir, "_common.yaml");
  if (!existsSync(commonPath)) throw new IntentFileError(shown(commonPath), 0, "missing: every locale needs _common.yaml");
  const common = readYaml(commonPath, shown(commonPath));
  checkLanguage(common, locale);
  const listLines = new Map<string, number>();
  for (const [name, node] of entries(common, child(common, common.root, "lists"), "lists")) {
    grammar.lists[name] = parseList(common, name, node, locale);
    listLines.set(name, common.lineOf(node));
  }
  const listRefs: { node: TemplateNode; line: number; file: string }[] = [];
  for (const [words, value] of entries(common, child(common, common.root, "numbers"), "numbers")) {
    const n = Number(scalar(common, value, `number '${words}'`));
    if (!Number.isFinite(n)) throw new IntentFileError(common.path, common.lineOf(value), `number '${words}' must map to a number`);
    let node: TemplateNode;
    try {
      node = parseTemplate(words, (w) => tokenize(w, locale));
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw new IntentFileError(common.path, common.lineOf(value), `number '${words}': ${e.message}`);
      throw e;
    }
    grammar.numbers.push({ node, value: n });
    listRefs.push({ node, line: common.lineOf(value), file: common.path });
    if (n >= 0 && n <= 9) {
      const options = node.kind === "alt" ? node.options : [node];
      for (const o of options) if (o.kind === "word") grammar.digitWords.set(o.word, n);
    }
  }
  for (const [name, list] of Object.entries(grammar.lists)) {
    if (list.kind === "values") for (const v of list.values) listRefs.push({ node: v.node, line: listLines.get(name) ?? 1, file: common.path });
  }
  for (const [name, node] of entries(common, child(common, common.root, "expansion_rules"), "expansion_rules")) {
    grammar.rules[name] = template(common, node, locale).node;
    ruleLines.set(name, { file: common.path, line: common.lineOf(node) });
  }
  grammar.skipWords = items(common, child(common, common.root, "skip_words"), "skip_words")
    .map((n) => tokenize(String(scalar(common, n, "a skip word")), locale));

  const responsesPath = join(dir, "responses.yaml");
  const responseLines = new Map<string, number>();
  if (existsSync(responsesPath)) {
    const responses = readYaml(responsesPath, shown(responsesPath));
    checkLanguage(responses, locale);
    for (const [key, node] of entries(responses, child(responses, responses.root, "responses"), "responses")) {
      grammar.responses[key] = isSeq(node)
        ? node.items.map((n) => String(scalar(responses, n as YamlNode, `response '${key}'`)))
        : [String(scalar(responses, node, `response '${key}'`))];
      responseLines.set(key, responses.lineOf(node));
    }
  }

  const intentFiles = readdirSync(dir).filter((f) => f.endsWith(".yaml") && !f.startsWith("_") && f !== "responses.yaml").sort();
  for (const name of intentFiles) {
    const file = readYaml(join(dir, name), shown(join(dir, name)));
    checkLanguage(file, locale);
    const intentsNode = child(file, file.root, "intents");
    if (!intentsNode) throw new IntentFileError(file.path, 1, "missing 'intents:'");
    for (const [intent, intentNode] of entries(file, intentsNode, "intents")) {
      if (!grammar.intents.includes(intent)) grammar.intents.push(intent);
      const data = items(file, child(file, intentNode, "data"), `intent '${intent}' data`);
      if (data.length === 0) throw new IntentFileError(file.path, file.lineOf(intentNode), `intent '${intent}' has no data`);
      for (const block of data) {
        const slots = fixedSlots(file, child(file, block, "slots"));
        const sentences = items(file, child(file, block, "sentences"), "sentences");
        if (sentences.length === 0) throw new IntentFileError(file.path, file.lineOf(block), "a data block needs 'sentences:'");
        for (const s of sentences) {
          const { text, node } = template(file, s, locale);
          const line = file.lineOf(s);
          const refs = references(node);
          for (const r of refs.rules) if (!grammar.rules[r]) throw new IntentFileError(file.path, line, `unknown expansion rule <${r}> (define it in _common.yaml expansion_rules)`);
          for (const l of refs.lists) if (!grammar.lists[l]) throw new IntentFileError(file.path, line, `unknown list {${l}} (define it in _common.yaml lists)`);
          grammar.sentences.push({ intent, text, node, fixedSlots: slots, source: { file: file.path, line } });
        }
      }
    }
  }
  // List values and number words may use rules and lists as well: unknown ones would only fail while matching.
  for (const { node, line, file } of listRefs) {
    const refs = references(node);
    for (const r of refs.rules) if (!grammar.rules[r]) throw new IntentFileError(file, line, `unknown expansion rule <${r}> in a list value or number word`);
    for (const l of refs.lists) if (!grammar.lists[l]) throw new IntentFileError(file, line, `unknown list {${l}} in a list value or number word`);
  }
  // Rules may refer to rules and lists too; check them once all are known, and refuse cycles.
  for (const [name, node] of Object.entries(grammar.rules)) {
    const where = ruleLines.get(name)!;
    const refs = references(node);
    for (const r of refs.rules) if (!grammar.rules[r]) throw new IntentFileError(where.file, where.line, `unknown expansion rule <${r}> in rule <${name}>`);
    for (const l of refs.lists) if (!grammar.lists[l]) throw new IntentFileError(where.file, where.line, `unknown list {${l}} in rule <${name}>`);
    assertNoCycle(grammar.rules, name, [], where);
  }
  // A response named after an intent is its reply, filled from its slots: it may use only those.
  for (const [key, line] of responseLines) {
    if (!grammar.intents.includes(key)) continue;
    if (OWN_INTENTS.has(key)) throw new IntentFileError(shown(responsesPath), line, `response '${key}' is named after an intent talkcart answers itself, so it would never be said: give your intent a name of its own`);
    const slots = slotsOf(grammar, key);
    const [problem] = grammar.responses[key].flatMap((text) => intentResponseProblems(key, text, slots));
    if (problem) throw new IntentFileError(shown(responsesPath), line, problem);
  }
  return grammar;
}

/** The slots an intent's sentences can fill, through its expansion rules, and its fixed slots. */
function slotsOf(grammar: Grammar, intent: string): string[] {
  const slots = new Set<string>();
  const seenRules = new Set<string>();
  const walk = (node: TemplateNode): void => {
    if (node.kind === "slot") slots.add(node.slot);
    else if (node.kind === "seq") node.items.forEach(walk);
    else if (node.kind === "alt") node.options.forEach(walk);
    else if (node.kind === "rule" && !seenRules.has(node.name)) {
      seenRules.add(node.name);
      walk(grammar.rules[node.name]);
    }
  };
  for (const s of grammar.sentences.filter((s) => s.intent === intent)) {
    walk(s.node);
    Object.keys(s.fixedSlots).forEach((k) => slots.add(k));
  }
  return [...slots];
}

function assertNoCycle(rules: Record<string, TemplateNode>, name: string, path: string[], where: { file: string; line: number }) {
  if (path.includes(name)) throw new IntentFileError(where.file, where.line, `expansion rule cycle: ${[...path, name].map((r) => `<${r}>`).join(" -> ")}`);
  for (const r of references(rules[name]).rules) assertNoCycle(rules, r, [...path, name], where);
}
