// The workspace's scenario files (*.scenario.json), outlined, and which of them exercise a given hook.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { outlineScenario, type ScenarioOutline } from './scenarioDoc';
import { noScenarioReason, resolveProgram, scenarioTargetsHook } from './scenarioMatch';
import { readTextBoundedAsync } from '../io/files';
import { workspaceRoots } from './runOptions';

export const SCENARIO_GLOB = '**/*.scenario.json';
export const isScenarioUri = (u: vscode.Uri) => u.path.endsWith('.scenario.json');

export interface ScenarioFile {
  uri: vscode.Uri;
  outline: ScenarioOutline;
  /** Absolute path of the scenario's program, if it names one. */
  program?: string;
}

/** Reads a scenario, preferring the editor's unsaved text. A file on disk is read through
 *  io/files (a regular file of at most 16 MiB); in Restricted Mode only from inside the workspace
 *  after following symlinks (the Testing view lists scenarios nobody opened). */
export async function readScenario(uri: vscode.Uri): Promise<ScenarioFile> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  let text: string;
  if (open) text = open.getText();
  else if (uri.scheme === 'file') text = (await readTextBoundedAsync(uri.fsPath, 'scenario', vscode.workspace.isTrusted ? {} : { within: workspaceRoots() })).text;
  else text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  const outline = outlineScenario(text);
  const file: ScenarioFile = { uri, outline };
  if (outline.program) file.program = resolveProgram(uri.fsPath, outline.program.value);
  return file;
}

export async function findScenarios(): Promise<ScenarioFile[]> {
  const uris = await vscode.workspace.findFiles(SCENARIO_GLOB, '**/node_modules/**', 500);
  const files = await Promise.all(uris.map((u) => readScenario(u).catch(() => undefined)));
  return files.filter((f): f is ScenarioFile => !!f).sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
}

/** Scenario files whose program is this hook (or its .o), optionally for one sock_ops function. */
export async function scenariosForHook(hookFile: string, func?: string): Promise<ScenarioFile[]> {
  return (await findScenarios()).filter((s) => scenarioTargetsHook(s.uri.fsPath, s.outline.program?.value, hookFile)
    && (!func || !s.outline.sockops || s.outline.sockops === func));
}

/** Asks which scenario to use when there are several; undefined if cancelled or none. */
export async function pickScenario(candidates: ScenarioFile[], title: string): Promise<ScenarioFile | undefined> {
  if (candidates.length <= 1) return candidates[0];
  const items = candidates.map((s) => ({
    label: path.basename(s.uri.fsPath),
    description: vscode.workspace.asRelativePath(path.dirname(s.uri.fsPath)),
    detail: `${s.outline.steps.length} steps, ${s.outline.steps.filter((x) => x.kind === 'expect').length} expect`,
    s,
  }));
  return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Scenario file', matchOnDescription: true }))?.s;
}

export function stepRange(s: ScenarioFile, index: number): vscode.Range | undefined {
  const st = s.outline.steps[index];
  return st && new vscode.Range(st.span.line, st.span.character, st.span.endLine, st.span.endCharacter);
}

/** Opens the scenario and selects step `index`. */
export async function revealStep(uri: vscode.Uri, index: number): Promise<void> {
  const s = await readScenario(uri);
  const range = stepRange(s, index);
  const editor = await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
  if (range) {
    editor.selection = new vscode.Selection(range.end, range.start); // cursor at the step's first line
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
}

/** No scenario runs this hook (function): says why, with buttons that fix it. */
export async function explainNoScenario(hookFile: string, func: string | undefined): Promise<void> {
  const all = await findScenarios();
  const why = noScenarioReason(hookFile, func, all.map((s) => ({ file: s.uri.fsPath, program: s.outline.program?.value, sockops: s.outline.sockops })));
  const acts = [...(why.open ? ['Open Scenario'] : []), 'New Scenario for This Hook'];
  const a = await vscode.window.showWarningMessage(why.message, ...acts);
  if (a === 'Open Scenario' && why.open) await vscode.window.showTextDocument(vscode.Uri.file(why.open));
  if (a === 'New Scenario for This Hook') await vscode.commands.executeCommand('bpfSockops.newScenario', vscode.Uri.file(hookFile));
}
