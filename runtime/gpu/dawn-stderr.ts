// Dawn's adapter discovery prints two lines to the process's standard error on Mesa's lavapipe
// (and on any Vulkan driver that reports a million dynamic buffers):
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to
//   fit dynamic offset allocation limit.
// They say that Dawn caps a limit at the value WebGPU allows; nothing for a user to act on, and
// revgnn uses one dynamic uniform buffer. Dawn writes them with fprintf(stderr) from native code
// (dawn::WarningLog in its Limits.cpp) while `requestAdapter` enumerates the adapters; neither
// dawn.node's `create()` flags nor a Dawn toggle turns that log off, and no requested limit avoids
// it (the cap is applied to the adapter's own limits, before any device is asked for).
//
// So the filter has to sit at the file-descriptor level, and it is kept narrow:
//  - only around the synchronous part of one `requestAdapter` call (where Dawn prints them);
//  - only the lines matching BENIGN below are dropped; everything else written to fd 2 meanwhile
//    (a real driver error, a Vulkan loader message) is written back to standard error unchanged;
//  - only where /proc/self/fd exists (Linux) and standard error can be re-opened through it: a
//    terminal, a file or a pipe. A socket cannot (ENXIO; Node's child_process gives its children
//    socket pairs for 'pipe' stdio), and there the call runs unfiltered.
// How: fd 2 is re-opened to a temporary file for the duration of the call (closing fd 2 makes the
// next open take number 2), then re-opened to the original standard error through a saved
// descriptor of it.
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Dawn's warnings that a user need not act on (see the file comment). */
export const BENIGN_DAWN_WARNINGS = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
];

/** The text with every line matching one of `benign` removed (line ends kept as they were). */
export function dropBenignLines(
  text: string,
  benign: readonly RegExp[] = BENIGN_DAWN_WARNINGS,
): string {
  return text
    .split(/(?<=\n)/)
    .filter((line) => !benign.some((re) => re.test(line.replace(/\r?\n$/, ""))))
    .join("");
}

/**
 * Runs `call` (synchronous, or the synchronous part of an async call: its returned promise is
 * passed through) with fd 2 captured, then writes back what was printed minus Dawn's benign
 * warnings. Falls back to a plain call wherever the redirection cannot be set up.
 */
export function withoutBenignDawnWarnings<T>(call: () => T): T {
  // With fd 0 and 1 open, the lowest free descriptor after closing 2 is 2 — provided no other
  // thread opens a file meanwhile. JavaScript runs on one thread, but the driver's do not: once
  // lavapipe compiles, Mesa's cache threads open files, and one took fd 2 here (its cache entry
  // went to standard error, and our messages into its file). So this is called only before any
  // device exists (device.ts requests the compile helper's adapter in the same call).
  const fdsOpen = [0, 1, 2].every((fd) => existsSync(`/proc/self/fd/${fd}`));
  if (process.platform !== "linux" || !fdsOpen) return call();
  let saved: number;
  let dir: string;
  try {
    saved = openSync("/proc/self/fd/2", "a");
    dir = mkdtempSync(join(tmpdir(), "revgnn-stderr-"));
  } catch {
    return call();
  }
  const file = join(dir, "stderr");
  let captured = false;
  try {
    closeSync(2);
    const fd = openSync(file, "w+");
    captured = fd === 2;
    if (!captured) closeSync(fd); // not fd 2 after all: run unfiltered (fd 2 restored below)
    return call();
  } finally {
    restoreStderr(saved, captured);
    if (captured) {
      const rest = dropBenignLines(readFileSync(file, "utf8"));
      if (rest.length > 0) writeSync(2, rest);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Points fd 2 back at the standard error saved as `saved`, and closes `saved`. */
function restoreStderr(saved: number, captured: boolean): void {
  if (captured) closeSync(2);
  openSync(`/proc/self/fd/${saved}`, "a"); // takes the free number 2
  closeSync(saved);
}
