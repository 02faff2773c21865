// What the runtime needs from its host besides the GPU: file I/O and process settings. This is the
// Node host; the browser build (playground/build.mjs) resolves every `X.ts` that has a sibling
// `X.browser.ts` to the sibling, so platform.browser.ts replaces this module there and the rest of
// the runtime is the same code in both.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export { writeFileAtomic, writeFileAtomicSync, type AtomicData } from "./util/atomic-write.js";

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
