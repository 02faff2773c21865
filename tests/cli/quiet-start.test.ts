// A quiet start: Dawn's notices about capping its own limits ("maxDynamicUniformBuffersPerPipeline
// Layout artificially reduced …", printed natively while adapters are enumerated) never reach the
// user, while anything else written to standard error at that moment still does.
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dropBenignLines } from "../../runtime/gpu/dawn-stderr.js";
import { cliEntry } from "../helpers/cli.js";

const BENIGN =
  "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.";
const BENIGN_STORAGE = BENIGN.replace("Uniform", "Storage");

/**
 * Runs node with standard error in a file, as a user's `2>log` or terminal has it: Node's own
 * 'pipe' stdio is a socket, which cannot be re-opened through /proc and is left unfiltered.
 */
function nodeWithStderrFile(args: string[]): { code: number | null; stderr: string } {
  const file = join(mkdtempSync(join(tmpdir(), "revgnn-quiet-")), "stderr");
  const fd = openSync(file, "w");
  try {
    const r = spawnSync(process.execPath, args, {
      stdio: ["ignore", "ignore", fd],
      timeout: 600_000,
    });
    return { code: r.status, stderr: readFileSync(file, "utf8") };
  } finally {
    closeSync(fd);
  }
}
const cli = (...args: string[]) => nodeWithStderrFile([...cliEntry, ...args]);

describe("quiet start", () => {
  it("drops exactly Dawn's limit notices from a text", () => {
    const text = `${BENIGN}\nerror: the device was lost\n${BENIGN_STORAGE}\nWarning: something else\n`;
    expect(dropBenignLines(text)).toBe("error: the device was lost\nWarning: something else\n");
    expect(dropBenignLines("no newline at the end")).toBe("no newline at the end");
  });

  it("filters what native code writes to fd 2 during the call, keeps the rest, restores fd 2", () => {
    // A child process stands in for Dawn: it writes to fd 2 directly, as fprintf(stderr) does.
    const script = `
      import { writeSync } from "node:fs";
      import { withoutBenignDawnWarnings } from "./runtime/gpu/dawn-stderr.ts";
      process.stderr.write("before\\n");
      const r = withoutBenignDawnWarnings(() => {
        writeSync(2, ${JSON.stringify(BENIGN + "\n")});
        writeSync(2, "a real driver error\\n");
        writeSync(2, ${JSON.stringify(BENIGN_STORAGE + "\n")});
        return 42;
      });
      process.stderr.write("after " + r + "\\n");
    `;
    const r = nodeWithStderrFile(["--import", "tsx", "--input-type=module", "-e", script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("before\na real driver error\nafter 42\n");
  });

  it("--help loads no GPU and prints nothing to stderr", () => {
    const r = cli("--help");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("a GPU command prints no 'artificially reduced' notice", () => {
    const r = cli(
      "train",
      "examples/revgcn.gnn",
      "--data",
      "data/cora",
      "--set",
      "L=2",
      "--set",
      "D=16",
      "--epochs",
      "1",
      "--quiet",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("artificially reduced");
    expect(r.stderr).toContain("RevGCN on cora"); // stderr itself still works after the filter
  }, 600_000);
});
