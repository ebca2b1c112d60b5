// Run options from the settings, with workspace trust applied (no compiler when untrusted).
import type { Ctx } from './ctx';
import type { RunOptions } from './run';

/** `program` overrides the scenario's own (e.g. the hook being edited instead of its .o). */
export function runOptions(ctx: Ctx, program?: string): RunOptions {
  const cc = ctx.config.compiler();
  const opts: RunOptions = { kernelProfile: ctx.config.kernelProfile };
  if (program) opts.program = program;
  if (cc.path) opts.compiler = { path: cc.path, args: cc.args }; else opts.noCompilerReason = cc.reason;
  return opts;
}
