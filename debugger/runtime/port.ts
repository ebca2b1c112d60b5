// The narrow interface between the debug runtime and a simulation. debugger/sim.ts is wrapped
// into it by ./sim-port.ts; tests may implement it with a fake. Everything here is what the runtime
// needs to re-run a scenario deterministically from the start and inspect it when paused.
import type { BpfObject, BpfProgram, MapDef } from '../object/types';
import type { ProgramRunTrace, SockModel } from '../kernel/types';
import type { VmApi } from '../vm/api';
import type { Profile } from '../../sockops/types';

/** Called before every instruction of every program run. It may throw to abandon the simulation.
 *  The InsnInfo may be reused for the next instruction: copy what must outlive the call. */
export type InsnHook = (info: InsnInfo) => void;

export interface InsnInfo {
  pc: number;
  vm: VmApi;
  program: BpfProgram;
  /** Identity of the current program run (a new object per run). */
  run: object;
  /** Synthetic-frame label of the kernel event: 'RCVQ_CB enqueue seq 8..108 (100 bytes)'. */
  label: string;
  /** Guest address of the context region (struct bpf_sock_ops / bpf_sockopt), if known. */
  ctxBase?: bigint;
  /** The sock_ops op of this run, if it is a sock_ops run. */
  op?: number;
  /** The run's trace so far; its `fault` is set once the run has faulted. */
  trace?: ProgramRunTrace;
}

export interface StepDesc {
  /** 'send 100', 'recv 50', 'setsockopt 3735928559/2343432205 = 1', ... */
  label: string;
  /** The step as written in the scenario file. */
  json: unknown;
  /** 1-based line of the step in the scenario file, when known. */
  line?: number;
  /** Its number as every view shows it (`bpf-sockops run`, the timeline, the Testing view): the
   *  index in the scenario's "steps", -1 for the passive open before them. */
  number: number;
}

export interface StepOutcome {
  /** The console line for this step (what `bpf-sockops run` prints). */
  text: string;
  /** The program runs of this step, in order. */
  runs: ProgramRunTrace[];
}

export interface MapView {
  def: MapDef;
  entries(): { key: Uint8Array; value: Uint8Array; owner?: string }[];
}

/** One fresh simulation, positioned before its first step. */
export interface DebugSim {
  readonly object: BpfObject;
  readonly steps: readonly StepDesc[];
  /** Index of the next step to run (steps.length when finished). */
  readonly nextStep: number;
  /** Run the next step. Exceptions thrown by the hook propagate unchanged. */
  stepOnce(): StepOutcome;
  socket(): SockModel | null;
  maps(): MapView[];
  /** bpf_printk output of the completed steps, one entry per line, in order (the live list:
   *  not copied; lines of the step in progress are in its runs' traces). */
  printk(): readonly string[];
  /** A snapshot of the whole simulation at a step boundary, and putting it back (time travel
   *  from the nearest checkpoint). restore() throws when the snapshot is ahead of this simulation. */
  checkpoint?(): unknown;
  restore?(cp: unknown): void;
  /** The `expect` steps so far: how many passed and failed, and whether a program faulted. */
  results?(): { passed: number; failed: number; faulted: boolean };
}

export interface SimFactory {
  /** Build a fresh simulation with `hook` installed. No program may run inside open(): work such
   *  as the passive open belongs to the first stepOnce() (a port may present it as a step of its
   *  own). Throws an Error whose message explains a launch failure. */
  open(hook: InsnHook): DebugSim;
  /** The ABI table used by the simulation (op names, ctx fields, helpers...). */
  readonly profile: Profile | null;
  /** Scenario file path, for messages. */
  readonly scenarioPath: string;
  /** The object file's bytes, when known: its DWARF line table marks code of no source line. */
  readonly objectBytes?: Uint8Array;
}
