// debugger/sim.ts seen through the runtime's narrow port (./port.ts): a prepared scenario (parsed,
// compiled, loaded once) from which each re-run builds a fresh, deterministic Simulation.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileBounded, readTextBounded } from '../../io/files';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Simulation, type PreparedScenario, type SimCheckpoint, type SimOptions } from '../sim';
import { compileBpf } from '../scenario/compile';
import type { RunInfo } from '../kernel/bpf/index';
import type { DebugSim, InsnHook, InsnInfo, SimFactory, StepDesc } from './port';

export class SimPort implements SimFactory {
  readonly profile;
  readonly scenarioPath: string;
  constructor(readonly prepared: PreparedScenario, readonly objectBytes?: Uint8Array) {
    this.profile = prepared.table.profile;
    this.scenarioPath = prepared.scenario.file;
  }

  /** Prepare the scenario, keeping the object's bytes (the debugger reads its DWARF line table). */
  static prepare(scenarioPath: string, opts: SimOptions = {}): SimPort {
    const program = opts.program ?? scenarioProgram(scenarioPath);
    if (program?.endsWith('.c')) {
      // compile here (the same compileBpf the scenario runner uses) so that the bytes are ours
      const bytes = compileBpf(program, { compiler: opts.compiler, args: opts.compilerArgs });
      const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-dbg-'));
      const obj = join(dir, basename(program).replace(/\.c$/, '') + '.o');
      try {
        writeFileSync(obj, bytes);
        let prepared: PreparedScenario;
        try {
          prepared = Simulation.prepare(scenarioPath, { ...opts, program: obj });
        } catch (e) {
          // messages name the user's .c, never our temporary object
          if (e instanceof Error) e.message = e.message.split(obj).join(program);
          throw e;
        }
        prepared.programFile = program;
        prepared.object.file = program;
        return new SimPort(prepared, bytes);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const prepared = Simulation.prepare(scenarioPath, opts);
    let bytes: Uint8Array | undefined;
    try { bytes = readFileBounded(prepared.programFile, 'object').bytes; } catch { bytes = undefined; }
    return new SimPort(prepared, bytes);
  }

  open(hook: InsnHook): DebugSim {
    const sim = new Simulation(this.prepared);
    sim.keepTrace = false; // the debugger reads each step's outcome once: no history of them
    const kernel = sim.kernel;
    // one InsnInfo, refilled per instruction (the hook reads it and keeps none of it)
    const out = { pc: 0, vm: null, program: null, run: null, label: '' } as unknown as InsnInfo;
    kernel.setInsnHook((info) => {
      const run: RunInfo = info.run;
      out.pc = info.pc; out.vm = info.vm; out.program = info.program; out.run = run;
      out.label = run.label; out.ctxBase = run.ctxBase; out.op = run.op; out.trace = run.trace;
      hook(out);
    });
    const steps: StepDesc[] = sim.steps.map((s) => ({ label: s.label, json: s.json, line: s.line, number: s.scenarioStep ? s.scenarioStep.index : -1 }));
    return {
      object: sim.object,
      steps,
      get nextStep() { return sim.nextStep; },
      stepOnce() {
        const r = sim.stepOnce();
        const sk = r.sock as unknown as { sk_rcvlowat?: number; readable?: number; epoll?: boolean | number; wakeups?: number };
        const figures = `rcvlowat ${sk.sk_rcvlowat ?? sim.socket().sk_rcvlowat}, readable ${sim.socket().readable()}, epoll ${sim.socket().epollIn() ? 1 : 0}, wakeups ${sim.socket().wakeups}`;
        return { text: `${r.step.scenarioStep ? `step ${r.step.scenarioStep.index}` : 'open'} ${r.step.label}: ${r.text} [${figures}]`, runs: r.runs };
      },
      socket: () => sim.socket(),
      maps: () => kernel.maps().map((m) => ({ def: m.def, entries: () => m.entries() })),
      printk: () => sim.printkLog,
      checkpoint: () => sim.checkpoint(),
      restore: (cp) => sim.restore(cp as SimCheckpoint),
      results: () => ({ passed: sim.passed, failed: sim.failed, faulted: sim.faulted }),
    };
  }
}

/** The scenario's "program", resolved like the scenario reader does; undefined when unreadable
 *  (the reader then says what is wrong). */
function scenarioProgram(scenarioPath: string): string | undefined {
  try {
    const j = JSON.parse(readTextBounded(scenarioPath, 'scenario').text) as { program?: unknown };
    return typeof j.program === 'string' ? resolve(dirname(resolve(scenarioPath)), j.program) : undefined;
  } catch {
    return undefined;
  }
}
