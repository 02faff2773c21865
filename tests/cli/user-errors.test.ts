// A user's mistake is never an internal error: each case below once gave a stack trace and exit 70,
// the wrong diagnosis, or a silently wrong number. Through the command line, as a user meets it:
// one line saying what is wrong and what to do, exit 1 (2 for a usage error), no stack trace —
// and, for output paths, the refusal comes before any work.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../helpers/cli.js";
import { reportError } from "../../cli/errors.js";
import { gpuAllocator, DeviceAllocationError } from "../../runtime/gpu/memory.js";
import { TINY, makeTempDir, removeDir, writeDataset } from "../data/helpers.js";

const revgnn = (args: string[], opts: { uid?: number } = {}) =>
  runCli(args, { ...opts, timeoutMs: 120_000 });

/** Exit code `code`, no stack trace, and the first line of stderr matching every pattern. */
function refused(r: ReturnType<typeof revgnn>, code: number, ...patterns: RegExp[]) {
  expect(r.err).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.err).not.toContain("internal error");
  const first = r.err.trim().split("\n")[0]!;
  for (const p of patterns) expect(first).toMatch(p);
  expect(r.code, r.err).toBe(code);
}

const dirs: string[] = [];
const tmp = (): string => {
  const d = makeTempDir("revgnn-cli-");
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

const TRAIN = ["train", "examples/revgcn.gnn", "--data", "synthetic:12:30:4:3", "--epochs", "1"];
const PLAN = ["plan", "examples/revgcn.gnn"];

describe("usage errors exit 2", () => {
  it.each([
    [[...TRAIN, "--lr", "-1"], /--lr must be a number \(0 or more\)/],
    [[...TRAIN, "--weight-decay", "-0.5"], /--weight-decay must be a number \(0 or more\)/],
    [[...TRAIN, "--seed", "-1"], /--seed must be a whole number from 0/],
    [[...TRAIN, "--checkpoint-every", "0"], /--checkpoint-every must be a whole number from 1/],
    [[...TRAIN, "--partitions", "0"], /--partitions must be a whole number from 1/],
    [[...PLAN, "--nodes", "0", "--edges", "10"], /--nodes must be a whole number from 1/],
    [[...PLAN, "--nodes", "10", "--edges", "10", "--partitions", "0"], /--partitions must/],
  ])("%j", (args, message) => {
    const r = revgnn(args as string[]);
    refused(r, 2, message as RegExp);
    expect(r.err).toContain("--help` lists the options");
  });

  it("more partitions than nodes is refused before training", () => {
    refused(revgnn([...TRAIN, "--partitions", "100"]), 2, /--partitions 100 is more than the 12/);
    refused(
      revgnn([...PLAN, "--nodes", "12", "--edges", "10", "--partitions", "100"]),
      2,
      /--partitions 100 is more than --nodes 12/,
    );
  });
});

describe("resource limits name the tensor, the size, the limit and what helps", () => {
  it("plan --nodes 1e8 --edges 1e9: the labels exceed a buffer (x would go in row chunks); --partitions cannot help", () => {
    const r = revgnn([...PLAN, "--nodes", "1e8", "--edges", "1e9"]);
    refused(
      r,
      1,
      /tensor "y" \(\[N, 1\] = \[100000000, 1\]\) needs 381\.47 MiB \(400000000 bytes\)/,
      /more than this device's maxStorageBufferBindingSize/,
      /--partitions does not help/,
    );
  });

  it("plan: features read by dropout cannot go in row chunks, and the message says so", () => {
    const r = revgnn(["plan", "examples/revgcnii.gnn", "--nodes", "1e6", "--edges", "1e6"]);
    refused(
      r,
      1,
      /tensor "x" \(\[N, F\] = \[1000000, 128\]\) needs 488\.28 MiB/,
      /more than this device's maxStorageBufferBindingSize/,
      /reads x other than by matmuls with it on the left .* cannot be held in chunks of rows/,
    );
  });

  it("plan: dense features over one binding go in row chunks, and the plan says so", () => {
    const r = revgnn([
      ...PLAN,
      ...["--nodes", "400000", "--edges", "2000000", "--features", "512"],
    ]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/x exceeds one storage binding: held in 7 chunks of 65536 rows/);
  });

  it("train on a synthetic 1e8-node, 1e9-edge graph: refused before generating it", () => {
    const spec = "synthetic:100000000:1000000000:128:40";
    const r = revgnn(["train", "examples/revgcn.gnn", "--data", spec, "--epochs", "1"]);
    refused(r, 1, /tensor "y" \(\[N, 1\] = \[100000000, 1\]\) needs 381\.47 MiB/);
    const edges = revgnn([
      "train",
      "examples/revgcn.gnn",
      "--data",
      "synthetic:100000:1000000000:4:2",
    ]);
    refused(edges, 1, /tensor "csr_src" \(\[E\] = \[2000000000\]\) needs 7\.45 GiB/);
  });

  it("train on a synthetic 2e7-node graph: x could go in row chunks, but the plan refuses a step's tensor before the 10 GB of features are made", () => {
    const spec = "synthetic:20000000:10000000:128:40";
    const r = revgnn(["train", "examples/revgcn.gnn", "--data", spec, "--epochs", "1"]);
    refused(r, 1, /\[N, 64\] = \[20000000, 64\]/, /4\.77 GiB/, /maxStorageBufferBindingSize/);
    expect(r.out).not.toContain("epoch");
  });

  it("plan --set L=1e9: a stacked parameter, fewer blocks help", () => {
    const r = revgnn([...PLAN, "--nodes", "100", "--edges", "100", "--set", "L=1e9"]);
    refused(r, 1, /\[1000000000, 32\]/, /weights of 1000000000 blocks/, /--set L=/);
  });

  it("plan: a per-node tensor of the evaluation over the binding size", () => {
    const r = revgnn([...PLAN, "--nodes", "2000000", "--edges", "100", "--features", "16"]);
    refused(
      r,
      1,
      /\[N, 64\] = \[2000000, 64\]/,
      /488\.28 MiB/,
      /the evaluation runs on the whole graph/,
      /--set D=/,
    );
  });

  it("train --set L=1e9 on the adapter: refused before anything is allocated", () => {
    const r = revgnn([...TRAIN, "--set", "L=1e9"]);
    refused(r, 1, /needs 119\.21 GiB/, /maxStorageBufferBindingSize/, /--set L=/);
    expect(r.out).not.toContain("done");
  });

  it("an allocation the device refuses is reported as out of memory, not a bug", async () => {
    // Lavapipe never refuses an allocation within its limits, so the device's answer is simulated
    // at the one place the real one arrives: the out-of-memory error scope around createBuffer.
    const errors: Error[] = [];
    const device = {
      pushErrorScope() {},
      popErrorScope: () => Promise.resolve({ message: "Out of memory" }),
      createBuffer: (d: { size: number }) => ({ size: d.size }),
    } as unknown as GPUDevice;
    (globalThis as Record<string, unknown>).GPUBufferUsage ??= {
      STORAGE: 128,
      COPY_SRC: 4,
      COPY_DST: 8,
      UNIFORM: 64,
      MAP_READ: 1,
    };
    gpuAllocator(device, (e) => errors.push(e)).create(1 << 30, "h_stack", "storage");
    await new Promise((r) => setTimeout(r, 0));
    expect(errors[0]).toBeInstanceOf(DeviceAllocationError);
    const printed: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((m: string) => void printed.push(m));
    try {
      expect(reportError(errors[0])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/could not allocate "h_stack" \(1\.00 GiB/);
    expect(printed[0]).toMatch(/revgnn plan.*--partitions P/);
  });
});

describe("output paths are checked before any work", () => {
  it.each([
    ["--report", (d: string) => d, /is a directory; name a file in it/],
    ["--save", (d: string) => join(d, "afile", "m.safetensors"), /afile is a file, so nothing/],
    [
      "--init-save",
      (d: string) => join(d, "no", "such", "w.st"),
      /does not exist; create it first/,
    ],
    ["--report", () => "examples/revgcn.gnn", /is the model's source file; writing there/],
  ])("%s %#", (option, path, message) => {
    const d = tmp();
    writeFileSync(join(d, "afile"), "x");
    const before = readFileSync("examples/revgcn.gnn", "utf8");
    const r = revgnn([...TRAIN, option as string, (path as (d: string) => string)(d)]);
    refused(r, 1, new RegExp(`^error: ${option} `), message as RegExp);
    expect(r.err).not.toContain("RevGCN on"); // nothing was loaded or trained
    expect(readFileSync("examples/revgcn.gnn", "utf8")).toBe(before);
  });

  it("two outputs onto one file", () => {
    const f = join(tmp(), "out.json");
    refused(revgnn([...TRAIN, "--save", f, "--report", f]), 1, /is also given to --save/);
  });

  it("a read-only directory", () => {
    const d = tmp();
    const ro = join(d, "ro");
    mkdirSync(ro);
    chmodSync(d, 0o755);
    chmodSync(ro, 0o555);
    // Root writes anywhere: run as nobody there, so that the permission really stops the write.
    const asRoot = process.getuid?.() === 0;
    const r = revgnn([...TRAIN, "--report", join(ro, "r.json")], asRoot ? { uid: 65534 } : {});
    refused(r, 1, /cannot create files in .*ro \(permission denied\)/, /writable directory/);
  });

  it("check --report too", () => {
    const r = revgnn(
      ["check", "examples/revgcn.gnn", "--data", "synthetic:12:30:4:3"].concat(["--report", tmp()]),
    );
    refused(r, 1, /^error: --report .* is a directory/);
  });
});

describe("programs the recursive passes cannot take", () => {
  const model = (expr: string) => {
    const src = readFileSync("examples/revgcn.gnn", "utf8").replace(
      "var h = x @ W_in + b_in",
      `var h = ${expr} @ W_in + b_in`,
    );
    const f = join(tmp(), "deep.gnn");
    writeFileSync(f, src);
    return f;
  };

  it("300 nested parentheses: a located error", () => {
    const f = model("(".repeat(300) + "x" + ")".repeat(300));
    const r = revgnn(["compile", f]);
    refused(r, 1, new RegExp(`^${f}:10:110: error: the program nests more than 100 levels`));
    expect(r.err).toContain("hint: name intermediate results with `let`");
  });

  it("a 1,500-term sum compiles (no recursion limit on chains)", () => {
    const f = model("(" + Array(1500).fill("x").join(" + ") + ")");
    const r = revgnn(["compile", f, "--emit", "summary"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("data and partitions", () => {
  it("all-equal outputs no longer score 100 %: one predicted class per node", () => {
    // F = 0: every node gets the same logits. Train labels are [0, 1, 2, 0, 2, 1], so whichever
    // single class is predicted, train accuracy is 1/3 (ties counted right gave 100 %).
    const report = join(tmp(), "r.json");
    const args = ["train", "examples/revgcn.gnn", "--data", "synthetic:10:20:0:3"];
    const r = revgnn(
      [...args, "--set", "L=2", "--set", "D=16", "--epochs", "1"].concat([
        "--report",
        report,
        "--quiet",
      ]),
    );
    expect(r.code, r.err).toBe(0);
    const log = JSON.parse(readFileSync(report, "utf8")).log;
    expect(log[0].train).toBeCloseTo(1 / 3, 12);
  });

  it("--partitions leaving parts without training nodes skips them (it stopped with NaN)", () => {
    const r = revgnn([...TRAIN, "--partitions", "10", "--quiet"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^done: /);
  });

  it("a per-node parameter with --partitions is refused at its declaration (--save failed)", () => {
    const file = join(tmp(), "per-node.gnn");
    writeFileSync(
      file,
      [
        "model PerNode(x: [N, F], y: labels[N, K]) {",
        "  param W: [F, K] = glorot",
        "  param P: [N, K] = zeros",
        "  loss cross_entropy(x @ W + P, y)",
        "}",
        "",
      ].join("\n"),
    );
    const args = ["train", file, "--data", "synthetic:12:30:4:3", "--epochs", "1"];
    refused(
      revgnn([...args, "--partitions", "2"]),
      1,
      /per-node\.gnn:3:3: error: parameter `P` is shaped by the graph/,
    );
    // Full-batch, the same model trains.
    expect(revgnn([...args, "--quiet"]).code).toBe(0);
  });

  it("a training node without a label is refused at load with the split file's line", () => {
    const d = writeDataset(tmp(), { ...TINY, "raw/node-label.csv.gz": "0\nNaN\n2\n1\n0\n2\n" });
    const r = revgnn(["train", "examples/revgcn.gnn", "--data", d, "--epochs", "1"]);
    refused(r, 1, /split\/public\/train\.csv\.gz:2:1: training node 1 has no label/);
  });

  it("an empty train split is refused at load", () => {
    const r = revgnn(["train", "examples/revgcn.gnn", "--data", "synthetic:1:0:2:2"]);
    refused(r, 1, /the train split is empty/);
  });

  it("a split scheme that is a symbolic link is followed; a killed save's leftovers go", () => {
    const d = writeDataset(tmp(), TINY);
    mkdirSync(join(d, "shared"));
    renameSync(join(d, "split/public"), join(d, "shared/public"));
    symlinkSync(join(d, "shared/public"), join(d, "split/public"));
    // A save killed before its rename leaves `.<name>.<pid>.<hex>.tmp`; a live process's stays.
    const out = tmp();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const stale = join(out, `.m.safetensors.${dead}.1a2b.tmp`);
    const live = join(out, `.m.safetensors.${process.pid}.3c4d.tmp`);
    writeFileSync(stale, "torn");
    writeFileSync(live, "in progress");
    const save = join(out, "m.safetensors");
    const r = revgnn(
      ["train", "examples/revgcn.gnn", "--data", d, "--epochs", "1"].concat([
        "--set",
        "L=1",
        "--set",
        "D=8",
        "--save",
        save,
        "--quiet",
      ]),
    );
    expect(r.code, r.err).toBe(0);
    expect(existsSync(save)).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
