// Run options from the settings, with workspace trust applied (no compiler when untrusted).
import type { Ctx } from './ctx';
import type { RunOptions } from './run';

export function runOptions(ctx: Ctx): RunOptions {
  const cc = ctx.config.compiler();
  const opts: RunOptions = { kernelProfile: ctx.config.kernelProfile };
  if (cc.path) opts.compiler = { path: cc.path, args: cc.args }; else opts.noCompilerReason = cc.reason;
  return opts;
}
