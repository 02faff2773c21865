// The `revgnn` command run from source as a user runs it, for the CLI tests.
import { spawnSync } from "node:child_process";
import { expect } from "vitest";

export interface CliResult {
  code: number | null;
  out: string;
  /** stderr without Dawn's notices about its own limits ("Warning: …"), which are not ours. */
  err: string;
}

export function runCli(args: string[], opts: { uid?: number; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 600_000,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
  const err = (r.stderr ?? "")
    .split("\n")
    .filter((l) => !l.startsWith("Warning: "))
    .join("\n");
  return { code: r.status, out: r.stdout ?? "", err };
}

/** A user's mistake never shows a stack trace. */
export const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
