// On save of a hook (trusted workspace, a compiler found): compile it and run the verifier in a
// worker (./taskWorker), then show in Problems clang's errors at their file:line:col and each
// rejection at its C line (SOCKOPS007, the verifier's words and the plain sentence), with the
// verifier log one click away (related information opens it; also "Show Verifier Log"). Nothing
// runs while typing; a save cancels the previous save's check of the same file.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Ctx } from './ctx';
import { findBpfPrograms, looksLikeBpfSource } from './bpfSource';
import { startTask, TaskStopped, type RunningTask } from './taskWorker';
import { CLANG_SOURCE, rejectionRange, rejectionText, verifierLogText, VERIFIER_CODE, type HookVerdicts } from './hookTasks';

export const LOG_SCHEME = 'bpf-sockops-verifier';
const SOURCE = 'bpf-sockops';
/** The sections the verifier judges (debugger/verifier progTypeOfSection). */
const VERIFIED_SECTION = /^(sockops(\/.*)?|cgroup\/(setsockopt|getsockopt))$/;

/** The log document of a hook: bpf-sockops-verifier:/path/to/hook.bpf.c.log */
export const logUri = (file: string) => vscode.Uri.from({ scheme: LOG_SCHEME, path: `${file}.log` });

export class VerifyOnSave implements vscode.TextDocumentContentProvider {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('bpf-sockops-verifier');
  private readonly running = new Map<string, RunningTask<HookVerdicts>>();
  private readonly last = new Map<string, HookVerdicts>();
  /** Files whose diagnostics this check set, per hook (clang can report in headers). */
  private readonly touched = new Map<string, vscode.Uri[]>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: Ctx, private readonly bundle: string | undefined) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const file = uri.path.replace(/\.log$/, '');
    const h = this.last.get(file);
    if (!h) return `No verifier run for ${file} yet: save the file in a trusted workspace with clang available.\n`;
    if (h.compile) return `${file} did not compile:\n\n${h.compile.text}\n`;
    if (h.error) return `${file}: ${h.error}\n`;
    return verifierLogText(h);
  }

  /** Whether a saved document is a hook the verifier judges. */
  static wants(d: vscode.TextDocument): boolean {
    if (d.languageId !== 'c' || d.uri.scheme !== 'file') return false;
    const text = d.getText();
    return looksLikeBpfSource(d.fileName, text) && findBpfPrograms(text).some((p) => VERIFIED_SECTION.test(p.section));
  }

  /** On save: compile and verify `file` (trusted, a compiler found, bpfSockops.verifier.onSave). */
  async check(file: string): Promise<HookVerdicts | undefined> {
    if (!this.ctx.config.trusted || !this.ctx.config.verifierOnSave) return undefined;
    const cc = this.ctx.config.compiler();
    if (!cc.path) { this.ctx.output.debug(`verify on save skipped for ${file}: ${cc.reason}`); return undefined; }
    return this.verify(file, { path: cc.path, args: cc.args });
  }

  /** Compile (a .c, with `cc`) or read (a .o) and verify `file`; Problems and the log document
   *  follow. Undefined when a later call for the same file stopped this one, or on a worker failure. */
  async verify(file: string, cc?: { path: string; args: string[] }): Promise<HookVerdicts | undefined> {
    this.running.get(file)?.stop();
    const task = startTask(this.bundle, 'verify', file, { ...(cc ? { compiler: cc.path, compilerArgs: cc.args } : {}), profile: this.ctx.config.kernelProfile });
    this.running.set(file, task);
    let h: HookVerdicts;
    try { h = await task.result; } catch (e) {
      if (e instanceof TaskStopped) return undefined;
      this.ctx.output.error(`verify ${file}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    } finally { if (this.running.get(file) === task) this.running.delete(file); }
    this.show(file, h);
    return h;
  }

  private show(file: string, h: HookVerdicts): void {
    this.last.set(file, h);
    for (const u of this.touched.get(file) ?? []) this.diagnostics.delete(u);
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (f: string, d: vscode.Diagnostic) => { const l = byFile.get(f) ?? []; l.push(d); byFile.set(f, l); };
    const log = new vscode.Location(logUri(file), new vscode.Position(0, 0));
    if (h.compile) {
      for (const c of h.compile.diagnostics.filter((x) => x.severity !== 'note')) {
        const pos = new vscode.Position(Math.max(0, c.line - 1), Math.max(0, c.column - 1));
        const d = new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), c.message, c.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        d.source = CLANG_SOURCE;
        add(c.file, d);
      }
      if (!h.compile.diagnostics.some((x) => x.severity === 'error')) {
        const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), `the hook did not compile: ${h.compile.text.split('\n').slice(0, 3).join(' ')}`, vscode.DiagnosticSeverity.Error);
        d.source = CLANG_SOURCE;
        add(file, d);
      }
    }
    for (const v of h.verdicts.filter((x) => x.verdict === 'rejected')) {
      const at = rejectionRange(v, file);
      const line = at?.line ?? Math.max(0, findBpfPrograms(vscode.workspace.textDocuments.find((d) => d.fileName === file)?.getText() ?? '').find((p) => p.name === v.program)?.nameLine ?? 0);
      const col = at?.column ?? 0;
      const d = new vscode.Diagnostic(new vscode.Range(line, col, line, Number.MAX_SAFE_INTEGER), rejectionText(v), vscode.DiagnosticSeverity.Error);
      d.source = SOURCE;
      d.code = VERIFIER_CODE;
      d.relatedInformation = [new vscode.DiagnosticRelatedInformation(log, `verifier log of ${v.program} (SEC("${v.section}")): open it to see the path to instruction ${v.insn}`)];
      add(at?.file ?? file, d);
    }
    const uris: vscode.Uri[] = [];
    for (const [f, ds] of byFile) { const u = vscode.Uri.file(f); uris.push(u); this.diagnostics.set(u, ds); }
    this.touched.set(file, uris);
    this.changed.fire(logUri(file));
    const rej = h.verdicts.filter((x) => x.verdict === 'rejected').length;
    this.ctx.output.info(`verify on save ${path.basename(file)}: ${h.compile ? 'compile failed' : h.error ? h.error : `${h.verdicts.length - rej} accepted, ${rej} rejected`}`);
  }

  dispose(): void {
    for (const t of this.running.values()) t.stop();
    this.running.clear();
    this.diagnostics.dispose();
    this.changed.dispose();
  }
}

export function registerVerifyOnSave(ctx: Ctx, bundle: string | undefined): VerifyOnSave {
  const v = new VerifyOnSave(ctx, bundle);
  ctx.push(v, vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, v));
  ctx.push(vscode.workspace.onDidSaveTextDocument((d) => { if (VerifyOnSave.wants(d)) void v.check(d.fileName); }));
  ctx.command('bpfSockops.showVerifierLog', async (arg?: unknown) => {
    const file = arg instanceof vscode.Uri ? arg.fsPath : vscode.window.activeTextEditor?.document.fileName;
    if (!file) { void vscode.window.showInformationMessage('Open a hook (a C file with SEC("sockops")) first.'); return undefined; }
    const doc = await vscode.workspace.openTextDocument(logUri(file));
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc.getText();
  });
  return v;
}
