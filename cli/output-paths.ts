// Every file a command will write (--report, --save, --init-save) is checked before any work
// starts: a bad path found after an hour of training would lose the hour. Each refusal says
// what is wrong with the path and what to do instead.
import { closeSync, existsSync, openSync, realpathSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A path the user gave that cannot be written as asked (exit 1, one line). */
export class OutputPathError extends Error {
  constructor(option: string, path: string, problem: string) {
    super(`${option} ${path}: ${problem}`);
    this.name = "OutputPathError";
  }
}

export interface PathOption {
  /** The option as the user typed it ("--save"), or a description ("the model"). */
  option: string;
  path: string | undefined;
}

/**
 * The directory entry a write would replace: the real parent directory plus the name (a write
 * replaces a symbolic link itself, not what it points to). Undefined while the parent is missing.
 */
function entryOf(path: string): string | undefined {
  try {
    return join(realpathSync(dirname(resolve(path))), basename(path));
  } catch {
    return undefined;
  }
}

function codeOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
  };
  return (e.code && reasons[e.code]) ?? e.message ?? String(err);
}

/** Why nothing can be written at `dir` (missing, or a file on the way), or undefined. */
function missingDirectory(dir: string): string | undefined {
  let d = dir;
  // The nearest existing ancestor decides: a file there means no directory can exist below it.
  while (!existsSync(d)) {
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  if (d === dir) {
    return statSync(dir).isDirectory()
      ? undefined
      : `${dir} is a file, so nothing can be written under it; choose a path in a directory`;
  }
  if (!statSync(d).isDirectory())
    return `${d} is a file, so nothing can be written under it; choose a path in a directory`;
  return `directory ${dir} does not exist; create it first (mkdir -p ${dir}) or choose another`;
}

/** Creates and removes a probe file in `dir`: the one test that sees every reason a write fails. */
function probeWritable(dir: string): string | undefined {
  const probe = join(dir, `.revgnn-write-probe.${process.pid}.${Date.now().toString(36)}`);
  try {
    closeSync(openSync(probe, "wx"));
  } catch (err) {
    return `cannot create files in ${dir} (${codeOf(err)}); choose a writable directory`;
  }
  try {
    unlinkSync(probe);
  } catch {
    // written but not removable: the write itself would work
  }
  return undefined;
}

/**
 * Refuses, before any work, an output path that is a directory or not a regular file, lies under
 * a file or in a missing or unwritable directory, is one of the command's inputs (the model's
 * source), or is named by two options.
 */
export function checkOutputPaths(outputs: PathOption[], inputs: PathOption[] = []): void {
  const given = outputs.filter((o): o is { option: string; path: string } => !!o.path);
  const taken = new Map<string, string>();
  for (const { option, path } of given) {
    const fail = (problem: string): never => {
      throw new OutputPathError(option, path, problem);
    };
    const abs = resolve(path);
    if (existsSync(abs)) {
      const st = statSync(abs);
      if (st.isDirectory())
        fail(`is a directory; name a file in it, e.g. ${join(path, defaultName(option))}`);
      if (!st.isFile()) fail("exists and is not a regular file; choose a file name");
    }
    const dir = dirname(abs);
    const missing = missingDirectory(dir);
    if (missing) fail(missing);
    const unwritable = probeWritable(dir);
    if (unwritable) fail(unwritable);

    const entry = entryOf(path)!;
    for (const input of inputs) {
      if (input.path && entryOf(input.path) === entry)
        fail(`is ${input.option}; writing there would destroy it: choose another file name`);
    }
    const other = taken.get(entry);
    if (other) fail(`is also given to ${other}; give each output its own file`);
    taken.set(entry, option);
  }
}

function defaultName(option: string): string {
  return option === "--report" ? "report.json" : "model.safetensors";
}
