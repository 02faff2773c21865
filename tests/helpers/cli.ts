// The `revgnn` command as a user runs it, for the CLI tests.
import { spawnSync } from "node:child_process";
import { expect } from "vitest";
// @ts-expect-error: a plain ES module shared with the set-up script (which runs before `npm ci`).
import { isBuildFresh } from "../../scripts/build-stamp.mjs";

/**
 * The built command when dist/ is a build of the current sources (`npm test` builds it first), else
 * the sources through tsx: the same program, but tsx transpiles the whole CLI at every spawn, which
 * costs about a second of CPU per test case.
 */
export const cliEntry: string[] = (isBuildFresh(process.cwd()) as boolean)
  ? ["dist/cli/main.js"]
  : ["--import", "tsx", "cli/main.ts"];

export interface CliResult {
  code: number | null;
  out: string;
  /** stderr without Dawn's notices about its own limits ("Warning: …"), which are not ours. */
  err: string;
}

export function runCli(
  args: string[],
  opts: { uid?: number; timeoutMs?: number; env?: Record<string, string> } = {},
): CliResult {
  const r = spawnSync(process.execPath, [...cliEntry, ...args], {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 600_000,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
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
