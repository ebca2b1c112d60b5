// The V8 young generation for a search. A delivery makes many short-lived objects (step records,
// traces, the VM's bigints at helper calls, packet views); with V8's default semi-space (16 MiB
// on 64-bit) enough of them outlive a scavenge to be copied and promoted, and garbage collection
// took ~10-15% of explore's time. A 32 MiB semi-space measured 17-30% less CPU per explored
// event (bench/explore.ts, interleaved runs on the 2-core machine; no effect on the kernel layer
// alone). Costs up to ~64 MiB more memory; changes no result.
import { setFlagsFromString } from 'node:v8';

/** Semi-space size a search runs with (MiB). */
export const SEARCH_SEMI_SPACE_MB = 32;

/** Worker threads get it through their resource limits (the young generation is three
 *  semi-spaces' worth in V8's sizing: two semi-spaces and the new large-object space). */
export const SEARCH_YOUNG_GENERATION_MB = 3 * SEARCH_SEMI_SPACE_MB;

let tuned = false;

/** V8's own semi-space limit on 64-bit (V8 11, Node 20): what untuneHeap() puts back. */
const V8_DEFAULT_SEMI_SPACE_MB = 16;

/** Put V8's default back (benchmarks that measure memory run after the explore benchmark). */
export function untuneHeap(): void {
  if (!tuned) return;
  tuned = false;
  setFlagsFromString(`--max-semi-space-size=${V8_DEFAULT_SEMI_SPACE_MB}`);
}

/** Raise this process's semi-space limit for a search. Process-wide: the command line calls it
 *  (a process of its own); hosts that share their process (the extension) leave it alone. */
export function tuneHeapForSearch(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString(`--max-semi-space-size=${SEARCH_SEMI_SPACE_MB}`);
}
