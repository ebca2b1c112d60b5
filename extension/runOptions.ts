// Run options from the settings, with workspace trust applied (no compiler when untrusted).
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import type { RunOptions } from './run';

/** `program` overrides the scenario's own (e.g. the hook being edited instead of its .o). */
export function runOptions(ctx: Ctx, program?: string): RunOptions {
  const cc = ctx.config.compiler();
  logCompiler(ctx, cc, program);
  const opts: RunOptions = { kernelProfile: ctx.config.kernelProfile };
  if (program) opts.program = program;
  if (cc.path) opts.compiler = { path: cc.path, args: cc.args }; else opts.noCompilerReason = cc.reason;
  if (!ctx.config.trusted) opts.restrictTo = workspaceRoots();
  return opts;
}

/** The workspace folders on disk (Restricted Mode reads nothing outside them unless the user opens it). */
export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

const said = new Set<string>();

/** The output channel says which compiler runs (once: the clang.path fallback) and with what
 *  command line, for a `.c` program. */
export function logCompiler(ctx: Ctx, cc: ReturnType<Ctx['config']['compiler']>, program?: string): void {
  if (cc.fallback && !said.has(cc.fallback)) { said.add(cc.fallback); ctx.output.info(cc.fallback); }
  if (cc.path && program && /\.c$/i.test(program)) {
    ctx.output.info(`compiler: ${cc.path} -target bpf -O2 -g ${cc.args.join(' ')}${cc.args.length ? ' ' : ''}-I <extension>/include -c ${program} -o <temporary .o>`);
  }
}
