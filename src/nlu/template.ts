/**
 * Sentence templates in the hassil syntax: words, (a|b) alternatives, [optional], (a;b) permutations,
 * <rule> expansion rules and {list} / {list:slot} slots. Parsed once into a small tree.
 */
export type TemplateNode =
  | { kind: "word"; word: string }
  | { kind: "seq"; items: TemplateNode[] }
  | { kind: "alt"; options: TemplateNode[] }
  | { kind: "rule"; name: string }
  | { kind: "slot"; list: string; slot: string };

export class TemplateSyntaxError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

const EMPTY: TemplateNode = { kind: "seq", items: [] };

export function parseTemplate(source: string, tokenizeWord: (w: string) => string[]): TemplateNode {
  let pos = 0;

  const fail = (message: string, at = pos): never => {
    throw new TemplateSyntaxError(`${message} at column ${at + 1} in "${source}"`, at + 1);
  };

  // group := sequence ('|' sequence)* ; with ';' making a permutation of the parts.
  function parseGroup(close: string | null): TemplateNode {
    const alternatives: TemplateNode[][] = [];
    let permutation: TemplateNode[] | null = null;
    let current: TemplateNode[] = [];
    while (pos < source.length) {
      const ch = source[pos];
      if (close !== null && ch === close) {
        pos++;
        return finish();
      }
      if (ch === ")" || ch === "]" || ch === ">" || ch === "}") fail(`unexpected '${ch}'`);
      if (ch === "|") {
        if (permutation) fail("'|' and ';' cannot be mixed in one group");
        alternatives.push(current);
        current = [];
        pos++;
      } else if (ch === ";") {
        if (alternatives.length > 0) fail("'|' and ';' cannot be mixed in one group");
        (permutation ??= []).push(seq(current));
        current = [];
        pos++;
      } else if (ch === "(") {
        const start = pos++;
        current.push(parseGroupOrFail(")", start));
      } else if (ch === "[") {
        const start = pos++;
        current.push({ kind: "alt", options: [parseGroupOrFail("]", start), EMPTY] });
      } else if (ch === "<") {
        current.push({ kind: "rule", name: readName(">") });
      } else if (ch === "{") {
        const [list, slot] = readName("}").split(":").map((s) => s.trim());
        if (!list) fail("empty slot name");
        current.push({ kind: "slot", list, slot: slot || list });
      } else if (/\s/.test(ch)) {
        pos++;
      } else {
        const start = pos;
        while (pos < source.length && !/[\s()[\]<>{}|;]/.test(source[pos])) pos++;
        for (const word of tokenizeWord(source.slice(start, pos))) current.push({ kind: "word", word });
      }
    }
    if (close !== null) fail(`missing '${close}'`);
    return finish();

    function finish(): TemplateNode {
      if (permutation) {
        permutation.push(seq(current));
        return { kind: "alt", options: permutations(permutation).map((p) => seq(p)) };
      }
      if (alternatives.length === 0) return seq(current);
      alternatives.push(current);
      return { kind: "alt", options: alternatives.map(seq) };
    }
  }

  function parseGroupOrFail(close: string, start: number): TemplateNode {
    try {
      return parseGroup(close);
    } catch (e) {
      if (e instanceof TemplateSyntaxError && e.message.startsWith(`missing '${close}'`)) {
        fail(`'${source[start]}' is never closed`, start);
      }
      throw e;
    }
  }

  function readName(close: string): string {
    const open = pos++;
    const end = source.indexOf(close, pos);
    if (end < 0) fail(`'${source[open]}' is never closed`, open);
    const name = source.slice(pos, end).trim();
    if (!name) fail("empty name", open);
    pos = end + 1;
    return name;
  }

  return parseGroup(null);
}

function seq(items: TemplateNode[]): TemplateNode {
  return items.length === 1 ? items[0] : { kind: "seq", items };
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** Every rule and slot a template refers to (for load-time validation). */
export function references(node: TemplateNode, out = { rules: new Set<string>(), lists: new Set<string>() }) {
  if (node.kind === "rule") out.rules.add(node.name);
  else if (node.kind === "slot") out.lists.add(node.list);
  else if (node.kind === "seq") node.items.forEach((n) => references(n, out));
  else if (node.kind === "alt") node.options.forEach((n) => references(n, out));
  return out;
}
