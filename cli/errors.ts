// How the command line reports failures: a mistake in the user's program or data is printed as
// located diagnostics and exits 1 (never a stack trace); a usage error exits 2; anything else is a
// bug in revgnn and keeps its stack trace.
import { CheckpointingError } from "../compiler/checkpointing.js";
import { CompileError, formatDiagnostics, type SourceMap } from "../grammar/diagnostics.js";
import { DataError } from "../runtime/data/errors.js";
import { SafetensorsError } from "../runtime/checkpoint/safetensors.js";
import { NoAdapterError, DeviceLostError } from "../runtime/gpu/device.js";
import { BufferLimitError, DeviceAllocationError } from "../runtime/gpu/memory.js";
import { CheckpointError } from "../driver/checkpoint.js";
import { DataShapeError } from "../driver/session.js";
import { OutputPathError } from "./output-paths.js";
import { InterpreterLimitError } from "../driver/interpreter-session.js";

export class UsageError extends Error {}

/** Errors that are the user's to fix (bad program, data, checkpoint, machine set-up). */
const USER_ERRORS = [
  DataError,
  SafetensorsError,
  CheckpointError,
  DataShapeError,
  NoAdapterError,
  DeviceLostError,
  OutputPathError,
  BufferLimitError,
  DeviceAllocationError,
  // `--checkpoint-every k` that does not divide a reversible loop's block count.
  CheckpointingError,
  // `--backend interpreter` on a graph it would take minutes over.
  InterpreterLimitError,
];

export function reportError(err: unknown, sources: SourceMap = new Map()): number {
  if (err instanceof CompileError) {
    console.error(formatDiagnostics(err.diagnostics, err.sources ?? sources));
    const n = err.diagnostics.filter((d) => d.severity === "error").length;
    console.error(`${n} error${n === 1 ? "" : "s"}`);
    return 1;
  }
  if (err instanceof UsageError) {
    console.error(`revgnn: ${err.message}`);
    return 2;
  }
  if (USER_ERRORS.some((E) => err instanceof E)) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === "ENOENT") {
    console.error(`error: ${err.message}`);
    return 1;
  }
  console.error("revgnn: internal error (please report it):");
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 70;
}
