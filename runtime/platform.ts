// What the runtime needs from its host besides the GPU: file I/O and process settings. This is the
// Node host; the browser build (playground/build.mjs) resolves every `X.ts` that has a sibling
// `X.browser.ts` to the sibling, so platform.browser.ts replaces this module there and the rest of
// the runtime is the same code in both.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export { writeFileAtomic, writeFileAtomicSync, type AtomicData } from "./util/atomic-write.js";
/** Runs an adapter request with Dawn's benign native notices filtered from stderr (dawn-stderr.ts). */
export { withoutBenignDawnWarnings as quietAdapterRequest } from "./gpu/dawn-stderr.js";

/** A file's bytes; throws an error with a `code` (ENOENT, EACCES, …) when it cannot be read. */
export function readFileBytes(path: string): Uint8Array {
  return readFileSync(path);
}

/** A setting from the environment (REVGNN_* knobs), undefined when unset. */
export function envVar(name: string): string | undefined {
  return process.env[name];
}

/** How many threads the host can run at once (sizes parallel shader compilation). */
export function hardwareThreads(): number {
  return availableParallelism();
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/**
 * While `busy()` holds, sleeps the thread `sleepMs` per turn of the event loop (Atomics.wait: a
 * real sleep, not a spin) on the turns where `stalled()` holds, then calls `done()`. dawn.node
 * polls for GPU completions with setImmediate, which otherwise keeps the JS thread at 100 % of a
 * core (see PipelineCache.throttle and the context's host waits in gpu/context.ts).
 */
export function sleepWhileBusy(
  busy: () => boolean,
  done: () => void,
  stalled: () => boolean = () => true,
  sleepMs = 5,
): void {
  const tick = () => {
    if (!busy()) return done();
    if (stalled()) Atomics.wait(SLEEPER, 0, 0, sleepMs);
    setImmediate(tick);
  };
  setImmediate(tick);
}
