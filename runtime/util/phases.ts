// Start-up phase timings for `REVGNN_TIMING=1`: where the seconds before and around the first
// epoch go (loading modules, compiling, opening the device, reading data, building kernels), as
// milliseconds since the process started. Off by default; a mark is then one comparison.
import { envVar } from "../platform.js";

const enabled = envVar("REVGNN_TIMING") === "1";
const marks: { name: string; at: number }[] = [];

/** Records that the phase `name` ended now (when REVGNN_TIMING=1). */
export function markPhase(name: string): void {
  if (enabled) marks.push({ name, at: performance.now() });
}

/** "phase            ends at   took" lines for the recorded marks, or "" when timing is off. */
export function phaseReport(): string {
  if (!enabled || marks.length === 0) return "";
  let previous = 0;
  const lines = marks.map(({ name, at }) => {
    const line = `[timing] ${name.padEnd(28)} at ${at.toFixed(0).padStart(6)} ms  (+${(at - previous).toFixed(0)} ms)`;
    previous = at;
    return line;
  });
  return lines.join("\n");
}
