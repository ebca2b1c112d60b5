// The presentation of a rejection: the kernel's own words (so a web search finds them) plus one
// plain sentence that says what went wrong in the C source and how to write it so the kernel
// accepts it. Facts come from ./check.ts (kind + data); only this file writes sentences.
import type { VerifierReject } from './check';

export interface Where { file?: string; line?: number; column?: number; text?: string }

const at = (w: Where) => (w.line ? ` at line ${w.line}` : '');
const src = (w: Where) => (w.text ? ` (\`${w.text.trim().slice(0, 80)}\`)` : '');

/** One sentence with the fix, for a rejection at `w`. */
export function explain(e: VerifierReject, w: Where): string {
  const f = e.facts;
  const reg = f.reg !== undefined ? `R${f.reg}` : 'the register';
  switch (e.kind) {
    case 'null-deref': {
      const t = String(f.type ?? '');
      const what = t.startsWith('map_value') ? 'a map lookup or bpf_sk_storage_get() result' : t.startsWith('tcp_sock') ? 'the bpf_tcp_sock() result' : t.startsWith('sock') ? 'ctx->sk (or bpf_sk_fullsock())' : t.includes('ptr_') ? 'the bpf_skc_to_*() result' : t.includes('mem') ? 'the bpf_ringbuf_reserve() result' : 'this pointer';
      return `${what} may be NULL: test it (if (!p) return ...;) before using it${at(w)}${src(w)}.`;
    }
    case 'uninit-reg':
      if (f.atExit) return `the function can end without setting a return value${at(w)}: return a value (0 or 1) on every path.`;
      return `${reg} is read before anything was written to it${at(w)}${src(w)}: initialise the variable on every path (clang may have reused the register after a call, which clobbers r1-r5).`;
    case 'ctx-access':
      if (f.write && f.size === 8) return `clang merged two neighbouring 4-byte context stores into one 8-byte store${at(w)} (the kernel only allows each field's own width): put asm volatile("" ::: "memory") between the two assignments, or write one of them through a volatile pointer.`;
      if (!f.write && typeof f.size === 'number' && f.size < 4) return `this context field is read with a ${f.size}-byte load${at(w)} (clang narrowed a load it only partly needs): read the whole field into a __u32 first (e.g. through a volatile read) and take the bits from that variable.`;
      return `this access to the context (${f.write ? 'write' : 'read'} of ${f.size} bytes at offset ${f.off})${at(w)} is not one the kernel allows for this program type: read each field with its declared width, and write only the writable fields (reply, sk_txhash; optlen/retval/level/optname for sockopt).`;
    case 'modified-ctx':
      return `the ctx pointer was moved before the access${at(w)} (clang turned a field access into pointer arithmetic): access the field directly (ctx->field) with a volatile read or barrier so the offset stays in the load instruction.`;
    case 'pkt-bounds':
      return `the packet bytes read${at(w)} are not proven to lie before data_end: compare the pointer plus the length with skb_data_end / optval_end (if (p + N > end) return ...;) right before the access.`;
    case 'map-bounds': case 'mem-bounds':
      return `the access${at(w)} can fall outside the ${f.map ? `map value of ${f.map} (${f.limit} bytes)` : `${f.limit}-byte object`}: bound the index (if (i >= N) return ...;) so offset + size stays within it.`;
    case 'unbounded-var':
      return `the offset or size used${at(w)} has no proven bounds: check it against a constant (if (i < N)) or mask it (i &= N - 1) on the same variable the access uses, after clang has stopped copying it.`;
    case 'stack-bounds':
      return `the stack access${at(w)} is outside the 512-byte frame: use smaller local buffers or a per-CPU map for large data.`;
    case 'stack-uninit':
      return `stack bytes are read${at(w)} before being written (allowed only with CAP_PERFMON): initialise the whole variable or buffer (= {} or __builtin_memset) before passing or reading it.`;
    case 'stack-misaligned':
      return `the stack access${at(w)} is not aligned to its size: keep the variable naturally aligned (do not take the address of a narrow field to read it as a wider type; use __builtin_memcpy into an aligned local).`;
    case 'stack-fill':
      return `a pointer kept on the stack is read back with a different width${at(w)}: keep pointers in 8-byte variables and read them whole.`;
    case 'helper-arg': case 'helper-arg-null':
      if (e.kind === 'helper-arg-null' || String(f.type ?? '').endsWith('_or_null')) return `argument ${reg} of ${f.helper ?? 'the call'}${at(w)} may be NULL: check it against NULL before the call.`;
      return `argument ${reg} of ${f.helper ?? f.name ?? 'the call'}${at(w)} has type ${f.type ?? '?'} but the kernel expects ${f.expected ?? 'another kind'}: pass the right object (the map itself, a stack buffer, ctx, or a socket from ctx->sk after its NULL check).`;
    case 'helper-size':
      return `the size passed to ${f.helper ?? 'the helper'}${at(w)} must be a bounded, non-negative (and for most helpers non-zero) value: clamp it (if (len > sizeof(buf)) len = sizeof(buf); if (len == 0) return ...;).`;
    case 'helper-unavailable':
      return `${f.name ?? 'this helper'} is not available to this program type${at(w)}: use another helper or move the logic to a program type that has it (see the sockops table hover).`;
    case 'helper-gpl':
      return `the call${at(w)} needs a GPL-compatible license: add char LICENSE[] SEC("license") = "GPL";.`;
    case 'kfunc':
      return `the kernel function ${f.name ?? ''} cannot be called from this program type on this kernel${at(w)}: check the profile (it may exist only with the AutoLOWAT series) or use a helper.`;
    case 'unreleased-ref':
      return `a reference acquired at insn ${f.allocInsn} (for example bpf_ringbuf_reserve()) is still held when the program ends: submit/discard/release it on every path, including error paths.`;
    case 'retval':
      return `this program type must return 0 or 1${at(w)}: return 1 (allow) or 0 (reject), not an errno or a computed value.`;
    case 'ret-ptr':
      return `the program returns a pointer${at(w)}: return 0 or 1.`;
    case 'too-large':
      return `the verifier would have to follow more than 1,000,000 instructions: a loop has no bound it can prove (use a constant bound, bpf_loop() or can_loop), or too many branches multiply paths.`;
    case 'infinite-loop':
      return `this loop${at(w)} can run forever with the same state: make it advance a counter the condition tests.`;
    case 'unreachable': return `no path reaches this instruction${at(w)}: the kernel refuses dead code that clang left (often after an infinite loop or a call that never returns); remove it.`;
    case 'jump-range': return `a jump leaves the program${at(w)}: the object is malformed (rebuild it).`;
    case 'ptr-arith':
      return `this arithmetic on a pointer${at(w)} is not allowed: only add/subtract bounded scalars to pointers to memory (stack, map value, packet), never to ctx->sk, map pointers or packet end.`;
    case 'readonly':
      return `the memory written${at(w)} is read-only for the program (socket views, .rodata, BTF pointers, sock_ops packet): write to a map value or stack copy instead.`;
    case 'call-depth': return `calls nest more than 8 deep${at(w)}: inline some functions (__always_inline).`;
    case 'bad-deref': return `${reg} does not point to memory the program may access this way${at(w)}${src(w)}.`;
    default: return `the kernel refuses the instruction${at(w)}${src(w)}.`;
  }
}
