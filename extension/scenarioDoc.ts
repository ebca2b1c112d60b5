// Where things are in a scenario file's text: each step's line, the `program` value. Used to put
// Testing-view failures and timeline clicks on the right line. Plain TS (no vscode).
import { parseTree, findNodeAtLocation, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser/lib/esm/main'; // the ESM build: esbuild cannot follow the UMD build's dynamic requires

export interface TextSpan {
  /** 0-based line and character of the start, and the end (exclusive). */
  line: number; character: number; endLine: number; endCharacter: number;
}

export interface ScenarioStepLoc {
  index: number;
  /** The step's kind: the first key of its object (`send`, `recv`, `setsockopt`, `expect`, ...). */
  kind: string;
  /** One-line summary as written (`expect rcvlowat=258 epoll=1`). */
  summary: string;
  span: TextSpan;
}

export interface ScenarioOutline {
  program?: { value: string; span: TextSpan };
  sockops?: string;
  steps: ScenarioStepLoc[];
  /** JSON syntax errors, with their place; the file is still outlined as far as it parses. */
  errors: { message: string; span: TextSpan }[];
}

export function lineIndex(text: string): (off: number) => { line: number; character: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (off) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid]! <= off) lo = mid; else hi = mid - 1; }
    return { line: lo, character: off - starts[lo]! };
  };
}

function spanOf(pos: ReturnType<typeof lineIndex>, offset: number, length: number): TextSpan {
  const a = pos(offset), b = pos(offset + length);
  return { line: a.line, character: a.character, endLine: b.line, endCharacter: b.character };
}

/** Compact text of a JSON value for a label: `{"rcvlowat":258,"epoll":1}` -> `rcvlowat=258 epoll=1`. */
function summarize(node: Node | undefined): string {
  if (!node) return '';
  if (node.type === 'object') {
    return (node.children ?? []).map((p) => {
      const k = p.children?.[0]?.value, v = p.children?.[1];
      return v && (v.type === 'object' || v.type === 'array') ? `${k}=${summarize(v)}` : `${k}=${String(v?.value)}`;
    }).join(' ');
  }
  if (node.type === 'array') return `[${(node.children ?? []).map(summarize).join(',')}]`;
  return String(node.value);
}

export function outlineScenario(text: string): ScenarioOutline {
  const pos = lineIndex(text);
  const errs: ParseError[] = [];
  const root = parseTree(text, errs, { allowTrailingComma: false, disallowComments: true });
  const out: ScenarioOutline = {
    steps: [],
    errors: errs.map((e) => ({ message: printParseErrorCode(e.error), span: spanOf(pos, e.offset, e.length) })),
  };
  if (!root || root.type !== 'object') return out;
  const prog = findNodeAtLocation(root, ['program']);
  if (prog && prog.type === 'string') out.program = { value: String(prog.value), span: spanOf(pos, prog.offset, prog.length) };
  const so = findNodeAtLocation(root, ['sockops']);
  if (so && so.type === 'string') out.sockops = String(so.value);
  const steps = findNodeAtLocation(root, ['steps']);
  if (steps?.type === 'array') {
    (steps.children ?? []).forEach((s, index) => {
      let kind = '?', summary = '';
      if (s.type === 'object' && s.children?.length) {
        const first = s.children[0]!;
        kind = String(first.children?.[0]?.value ?? '?');
        const val = first.children?.[1];
        summary = val && (val.type === 'object' || val.type === 'array') ? `${kind} ${summarize(val)}` : `${kind} ${String(val?.value)}`;
      }
      out.steps.push({ index, kind, summary, span: spanOf(pos, s.offset, s.length) });
    });
  }
  return out;
}
