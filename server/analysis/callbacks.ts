// Helpers that call a function of the program back: which of their arguments is the callback and
// which is handed to it, and which parameter of the callback receives it. The helper argument
// positions come from the table's prototypes (parameter names of include/uapi/linux/bpf.h); the
// callback's side is the verifier's (kernel/bpf/verifier.c, set_*_callback_state()).
import type { SockopsTable } from './table';

export interface CallbackHelper {
  /** 0-based C argument index of the callback function (`callback_fn`). */
  fnArg: number;
  /** 0-based C argument index of the pointer passed on to the callback, if any. */
  ctxArg?: number;
  /** 0-based parameter index of the callback that receives that pointer. */
  cbParam?: number;
  /** The callback runs later, not inside the call (bpf_timer_set_callback): the op of the
   *  program that armed it is not the op it runs at. */
  async: boolean;
}

interface Row {
  /** Name of the helper parameter passed on to the callback, as the table spells it. */
  ctxParam?: string;
  cbParam?: number;
  async: boolean;
}

/** kernel/bpf/verifier.c is_sync_callback_calling_function() / is_async_callback_calling_function(),
 *  and where each set_*_callback_state() puts the caller's context argument:
 *  loop: R2 = caller R3 (set_loop_callback_state); for_each_map_elem: R4 = caller R3 (the map's
 *  map_set_for_each_callback_args, e.g. map_set_for_each_callback_args() in verifier.c);
 *  find_vma: R3 = caller R4 (set_find_vma_callback_state); user_ringbuf_drain: R2 = caller R3
 *  (set_user_ringbuf_callback_state); timer_set_callback: async, gets (map, key, value). */
const ROWS: Record<string, Row> = {
  bpf_loop: { ctxParam: 'callback_ctx', cbParam: 1, async: false },
  bpf_for_each_map_elem: { ctxParam: 'callback_ctx', cbParam: 3, async: false },
  bpf_find_vma: { ctxParam: 'callback_ctx', cbParam: 2, async: false },
  bpf_user_ringbuf_drain: { ctxParam: 'ctx', cbParam: 1, async: false },
  bpf_timer_set_callback: { async: true },
};

const cache = new WeakMap<SockopsTable, Map<string, CallbackHelper | null>>();

/** The callback shape of helper `name`, or undefined when it calls nothing back (or when the
 *  table's prototype has no `callback_fn` parameter). */
export function callbackHelper(t: SockopsTable, name: string): CallbackHelper | undefined {
  let m = cache.get(t);
  if (!m) cache.set(t, (m = new Map()));
  const hit = m.get(name);
  if (hit !== undefined) return hit ?? undefined;
  let r: CallbackHelper | null = null;
  const row = ROWS[name];
  const h = row ? t.helper(name) : undefined;
  if (row && h) {
    const fnArg = h.params.findIndex((p) => p.name === 'callback_fn');
    if (fnArg >= 0) {
      const ctxArg = row.ctxParam ? h.params.findIndex((p, i) => i > fnArg && p.name === row.ctxParam) : -1;
      r = { fnArg, async: row.async, ...(ctxArg >= 0 && row.cbParam !== undefined ? { ctxArg, cbParam: row.cbParam } : {}) };
    }
  }
  m.set(name, r);
  return r ?? undefined;
}
