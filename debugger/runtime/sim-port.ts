// debugger/sim.ts seen through the runtime's narrow port (./port.ts): a prepared scenario (parsed,
// compiled, loaded once) from which each re-run builds a fresh, deterministic Simulation.
import { Simulation, type PreparedScenario, type SimOptions } from '../sim';
import type { RunInfo } from '../kernel/bpf/index';
import type { DebugSim, InsnHook, SimFactory, StepDesc } from './port';

export class SimPort implements SimFactory {
  readonly profile;
  readonly scenarioPath: string;
  constructor(readonly prepared: PreparedScenario) {
    this.profile = prepared.table.profile;
    this.scenarioPath = prepared.scenario.file;
  }

  static prepare(scenarioPath: string, opts: SimOptions = {}): SimPort {
    return new SimPort(Simulation.prepare(scenarioPath, opts));
  }

  open(hook: InsnHook): DebugSim {
    const sim = new Simulation(this.prepared);
    const kernel = sim.kernel;
    kernel.setInsnHook((info) => {
      const run: RunInfo = info.run;
      hook({ pc: info.pc, vm: info.vm, program: info.program, run, label: run.label, ctxBase: run.ctxBase, op: run.op, trace: run.trace });
    });
    const steps: StepDesc[] = sim.steps.map((s) => ({ label: s.label, json: s.json, line: s.line }));
    return {
      object: sim.object,
      steps,
      get nextStep() { return sim.nextStep; },
      stepOnce() {
        const r = sim.stepOnce();
        const sk = r.sock as unknown as { sk_rcvlowat?: number; readable?: number; epoll?: boolean | number; wakeups?: number };
        const figures = `rcvlowat ${sk.sk_rcvlowat ?? sim.socket().sk_rcvlowat}, readable ${sim.socket().readable()}, epoll ${sim.socket().epollIn() ? 1 : 0}, wakeups ${sim.socket().wakeups}`;
        return { text: `step ${r.index} ${r.step.label}: ${r.text} [${figures}]`, runs: r.runs };
      },
      socket: () => sim.socket(),
      maps: () => kernel.maps().map((m) => ({ def: m.def, entries: () => m.entries() })),
      printk: () => kernel.printk().map((l) => l.text),
    };
  }
}
