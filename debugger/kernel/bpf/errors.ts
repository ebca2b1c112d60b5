// Load-time errors of the simulated kernel: what the verifier or the loader would refuse.

/** Thrown by BpfKernel.load(); the message names the object file, the program, the C line
 *  (from BTF line_info when there is one) and what to do. */
export class LoadError extends Error {
  constructor(
    readonly file: string,
    readonly program: string | null,
    readonly detail: string,
    readonly line?: string, // 'hook.bpf.c:42'
    readonly pc?: number,
  ) {
    super(
      `${file}: ${program !== null ? `program ${program}` : 'object'}` +
        `${pc !== undefined ? `, insn ${pc}` : ''}${line ? ` (${line})` : ''}: ${detail}`,
    );
    this.name = 'LoadError';
  }
}
