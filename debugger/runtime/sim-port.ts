// debugger/sim.ts seen through the runtime's narrow port (./port.ts): a prepared scenario (read,
// parsed, compiled, loaded once) from which each re-run builds a fresh, deterministic Simulation.
import { Simulation, type PreparedScenario, type SimCheckpoint, type SimOptions, type SimStep } from '../sim';
import type { RunInfo } from '../kernel/bpf/index';
import type { DebugSim, InsnHook, InsnInfo, SimFactory, StepDesc } from './port';

/** A step as the runtime and the views see it, read from the scenario's step when asked (a long
 *  scenario's steps are read from its text again: ../scenario/steps.ts). */
class SimStepDesc implements StepDesc {
  constructor(private readonly s: SimStep) {}
  get label(): string { return this.s.label; }
  get json(): unknown { return this.s.json; }
  get line(): number | undefined { return this.s.line; }
  get number(): number { return this.s.scenarioStep ? this.s.scenarioStep.index : -1; }
}

export class SimPort implements SimFactory {
  readonly profile;
  readonly scenarioPath: string;
  readonly objectBytes: Uint8Array;
  /** The steps, the same for every re-run: made once. */
  private steps: StepDesc[] | null = null;
  constructor(readonly prepared: PreparedScenario) {
    this.profile = prepared.table.profile;
    this.scenarioPath = prepared.scenario.file;
    this.objectBytes = prepared.objectBytes;
  }

  /** Prepare the scenario: its file read once, a .c compiled by the same compileBpf the scenario
   *  runner uses (messages name the user's files), the object's bytes kept for its DWARF. */
  static prepare(scenarioPath: string, opts: SimOptions = {}): SimPort {
    return new SimPort(Simulation.prepare(scenarioPath, opts));
  }

  open(hook: InsnHook): DebugSim {
    const sim = new Simulation(this.prepared);
    sim.keepTrace = false; // the debugger reads each step's outcome once: no history of them
    const kernel = sim.kernel;
    // one InsnInfo, refilled per instruction (the hook reads it and keeps none of it)
    const out = { pc: 0, vm: null, program: null, run: null, label: '' } as unknown as InsnInfo;
    let last: RunInfo | null = null;
    kernel.setInsnHook((info) => {
      const run: RunInfo = info.run;
      // a run's fields are the same at each of its instructions: copied when the run changes
      if (run !== last || out.vm !== info.vm) {
        last = run;
        out.vm = info.vm; out.program = info.program; out.run = run;
        out.label = run.label; out.ctxBase = run.ctxBase; out.op = run.op; out.trace = run.trace;
      }
      out.pc = info.pc;
      hook(out);
    });
    const steps = (this.steps ??= Array.from({ length: sim.stepCount }, (_, k) => new SimStepDesc(sim.stepAt(k)!)));
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
