// What a DAP message must look like before the session sees it: a JSON object with a "type";
// a request with an integer "seq", a "command" and, where the request needs them, arguments of
// the right types. Each problem is one sentence naming the argument; never a host exception.
import type { DebugProtocol } from '@vscode/debugprotocol';

type Check = (v: unknown) => boolean;
const isObj: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isInt: Check = (v) => Number.isSafeInteger(v);
const isCount: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const opt = (c: Check): Check => (v) => v === undefined || c(v);
const strList: Check = (v) => Array.isArray(v) && v.every(isStr);

/** Most breakpoints one request may set (VS Code sends those of one file; 100,000 took 20 s). */
export const MAX_BREAKPOINTS = 10_000;

const listOf = (item: Record<string, Check>, max = MAX_BREAKPOINTS): Check => (v) => Array.isArray(v) && v.length <= max
  && v.every((x) => isObj(x) && Object.entries(item).every(([k, ok]) => ok((x as Record<string, unknown>)[k])));
const breakpoints = (item: Record<string, Check>, what: string): [Check, string] => [listOf(item), what];

/** The arguments each request needs (DebugProtocol *Arguments), by command. */
export const REQUEST_ARGUMENTS: Record<string, Record<string, [Check, string]>> = {
  initialize: { adapterID: [opt(isStr), 'a string'], linesStartAt1: [opt(isBool), 'true or false'], columnsStartAt1: [opt(isBool), 'true or false'], pathFormat: [opt(isStr), 'a string'] },
  launch: {
    scenario: [opt(isStr), 'the path of a *.scenario.json file'], program: [opt(isStr), 'the path of a .c or .o file'],
    cwd: [opt(isStr), 'a directory path'], compiler: [opt(isStr), 'the path of clang'], compilerArgs: [opt(strList), 'a list of strings'],
    profile: [opt(isStr), 'a kernel profile name'], stopOnEntry: [opt(isBool), 'true or false'], noDebug: [opt(isBool), 'true or false'],
    ignoreVerifier: [opt(isBool), 'true or false'], sourceRoots: [opt(strList), 'a list of folder paths'],
  },
  setBreakpoints: { source: [isObj, 'a Source object'], breakpoints: [opt(listOf({ line: isInt })), 'a list of {line}'], lines: [opt((v) => Array.isArray(v) && v.length <= MAX_BREAKPOINTS && v.every(isInt)), 'a list of line numbers'] },
  setFunctionBreakpoints: { breakpoints: breakpoints({ name: isStr }, 'a list of {name}') },
  setInstructionBreakpoints: { breakpoints: breakpoints({ instructionReference: isStr, offset: opt(isInt) }, 'a list of {instructionReference, offset?}') },
  setDataBreakpoints: { breakpoints: breakpoints({ dataId: isStr }, 'a list of {dataId}') },
  setExceptionBreakpoints: { filters: [strList, 'a list of filter names'] },
  dataBreakpointInfo: { name: [isStr, 'a variable name'], variablesReference: [opt(isInt), 'an integer'] },
  continue: { threadId: [isInt, 'a thread id'] },
  next: { threadId: [isInt, 'a thread id'], granularity: [opt(isStr), 'a granularity name'] },
  stepIn: { threadId: [isInt, 'a thread id'], granularity: [opt(isStr), 'a granularity name'] },
  stepOut: { threadId: [isInt, 'a thread id'], granularity: [opt(isStr), 'a granularity name'] },
  stepBack: { threadId: [isInt, 'a thread id'], granularity: [opt(isStr), 'a granularity name'] },
  reverseContinue: { threadId: [isInt, 'a thread id'] },
  pause: { threadId: [isInt, 'a thread id'] },
  stackTrace: { threadId: [isInt, 'a thread id'], startFrame: [opt(isCount), 'a count'], levels: [opt(isCount), 'a count'] },
  scopes: { frameId: [isInt, 'a frame id from the stack trace'] },
  variables: { variablesReference: [isInt, 'an integer'], start: [opt(isCount), 'a count'], count: [opt(isCount), 'a count'] },
  setVariable: { variablesReference: [isInt, 'an integer'], name: [isStr, 'a variable name'], value: [isStr, 'an expression'] },
  evaluate: { expression: [isStr, 'an expression'], frameId: [opt(isInt), 'a frame id'], context: [opt(isStr), 'a string'] },
  exceptionInfo: { threadId: [isInt, 'a thread id'] },
  readMemory: { memoryReference: [isStr, 'an address'], offset: [opt(isInt), 'an integer'], count: [isCount, 'a byte count'] },
  disassemble: { memoryReference: [isStr, 'an instruction reference'], offset: [opt(isInt), 'an integer'], instructionOffset: [opt(isInt), 'an integer'], instructionCount: [isCount, 'an instruction count'] },
  source: { sourceReference: [opt(isInt), 'an integer'] },
  disconnect: { restart: [opt(isBool), 'true or false'], terminateDebuggee: [opt(isBool), 'true or false'] },
  terminate: { restart: [opt(isBool), 'true or false'] },
};

/** Requests whose arguments DAP makes optional: a missing "arguments" is taken as {}. */
const ARGUMENTS_OPTIONAL = new Set(['configurationDone', 'threads', 'disconnect', 'terminate', 'loadedSources', 'restart', 'cancel']);

/** Why the request's arguments cannot be used, naming the argument; null when they can. */
export function requestArgumentProblem(request: { command: string; arguments?: unknown }): string | null {
  const want = REQUEST_ARGUMENTS[request.command];
  const args = request.arguments;
  if (args === undefined) {
    if (!want || ARGUMENTS_OPTIONAL.has(request.command)) return null;
    return `${request.command}: the request has no arguments`;
  }
  if (!isObj(args)) return `${request.command}: "arguments" must be an object, not ${shown(args)}`;
  if (!want) return null;
  for (const [k, [ok, what]] of Object.entries(want)) {
    const v = (args as Record<string, unknown>)[k];
    if (ok(v)) continue;
    if (Array.isArray(v) && v.length > MAX_BREAKPOINTS) return `${request.command}: '${k}' has ${v.length} entries; at most ${MAX_BREAKPOINTS} in one request`;
    return `${request.command}: '${k}' must be ${what}, not ${shown(v)}`;
  }
  return null;
}

/** A message the session must not see: what to say on stderr and, for a request that can be
 *  answered, the error response's text. */
export interface MessageProblem { text: string; reply?: { seq: number; command: string } }

/** Checks one decoded DAP message; null when the session can take it. */
export function messageProblem(msg: unknown): MessageProblem | null {
  if (!isObj(msg)) return { text: `a message that is not a JSON object (${shown(msg)}); dropped` };
  const m = msg as Record<string, unknown>;
  const seq = isCount(m.seq) ? (m.seq as number) : 0;
  const command = typeof m.command === 'string' ? m.command : '';
  if (m.type === 'response' || m.type === 'event') return m.type === 'event' ? { text: 'an event from the client (clients send requests); dropped' } : null;
  if (m.type !== 'request') {
    const text = `a message whose "type" is ${shown(m.type)}, not "request"`;
    return command ? { text, reply: { seq, command } } : { text: `${text}; dropped` };
  }
  if (!isCount(m.seq)) return { text: `a request whose "seq" is ${shown(m.seq)}, not a sequence number`, reply: { seq, command: command || 'unknown' } };
  if (!command) return { text: `request ${seq} has no "command" (got ${shown(m.command)})`, reply: { seq, command: 'unknown' } };
  const p = requestArgumentProblem(m as unknown as DebugProtocol.Request);
  return p ? { text: p, reply: { seq, command } } : null;
}

/** A value as a message shows it: short. */
export function shown(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'an object';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return JSON.stringify(v) ?? String(v);
}
