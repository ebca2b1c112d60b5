// Diagnostic codes of bpf-sockops, one line each. Codes are stable: never renumber, only add.
// Source name of every diagnostic: `bpf-sockops` (we run beside clangd, never instead of it).

export const SOURCE = 'bpf-sockops';

export const CODES = {
  SOCKOPS001: 'helper or kfunc not available to the program type (the verifier rejects the program at load time)',
  SOCKOPS002: 'helper or kfunc call fails at every op that reaches it (error, with the errno the kernel returns)',
  SOCKOPS003: 'helper or kfunc call fails at some of the ops that reach it (warning naming those ops and the errno)',
  SOCKOPS004: 'store to a read-only bpf_sock_ops field (`=`, `+=`, `++`...): the verifier rejects it',
  SOCKOPS005: 'read of a bpf_sock_ops field that is always 0 or NULL, or a packet window that is always empty, at every op reaching it (e.g. skb_data at RCVQ_CB)',
  SOCKOPS006: 'the hook handles an op whose cb flag (e.g. BPF_SOCK_OPS_RCVQ_CB_FLAG) nothing in the file enables: it never fires',
} as const;

export type Code = keyof typeof CODES;

/** Codes of the scenario-file checks (`*.scenario.json` in the editor). */
export const SCENARIO_CODES = {
  SCENARIO001: 'the scenario file is refused as `bpf-sockops run` would refuse it (JSON, values, steps against the stream)',
  SCENARIO002: 'the program file is missing or cannot be loaded (a missing .o next to its .c is a warning)',
  SCENARIO003: 'a program the scenario names is not in the object or the C file, or is in the wrong SEC()',
} as const;

/** Codes in the same source published by the extension, not by this server (they need a compile:
 *  extension/verifyOnSave.ts, on save in a trusted workspace). */
export const EDITOR_CODES = {
  SOCKOPS007: "the kernel's verifier will reject this program (at the rejecting instruction's C line; bpf-sockops verify's words and fix)",
} as const;
