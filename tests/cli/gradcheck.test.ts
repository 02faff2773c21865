// `revgnn gradcheck`: derived gradients against central differences (float64 interpreter, no GPU).
// It passes on the examples, and it fails — exit 1, naming the tensor — when a VJP rule is wrong
// (one is broken on purpose here, in-process, and restored).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { gradcheckCommand } from "../../cli/gradcheck-cmd.js";
import type { OpDef, VjpRule } from "../../compiler/ir/op-def.js";
import { getOp } from "../../compiler/ir/registry.js";
import { runCli } from "../helpers/cli.js";

const options = {
  set: { D: "8", L: "2" },
  nodes: 9,
  edges: 20,
  features: 4,
  classes: 3,
  sample: 6,
  seed: 0,
  tolerance: 1e-6,
  storeActivations: true,
};

const program = `
layer tanh_coupling(x1: [N, d], x2: [N, d]) reversible {
  param W: [d, d] = glorot
  x1 += tanh(x2 @ W)
  x2 += tanh(x1 @ W)
}
model M(x: [N, F], y: labels[N, K]; D: int = 8, L: int = 2) {
  param W_in: [F, D] = glorot
  param W_out: [D, K] = glorot
  var h = x @ W_in
  repeat L as blocks {
    let (a, b) = split(h, 2)
    let (a2, b2) = tanh_coupling(a, b)
    h = concat(a2, b2)
  }
  loss cross_entropy(h @ W_out, y)
}
`;

describe("revgnn gradcheck", () => {
  afterEach(() => vi.restoreAllMocks());

  it("passes on an example, through the command line", () => {
    const r = runCli([
      "gradcheck",
      "examples/revgcn.gnn",
      "--set",
      "D=8",
      "--set",
      "L=2",
      "--sample",
      "4",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("blocks.group1.gcn_conv.W");
    expect(r.out).toContain("every gradient within 1.00e-6 of finite differences");
  });

  it("fails, naming the tensor, when a VJP rule is wrong", () => {
    const file = join(mkdtempSync(join(tmpdir(), "revgnn-gradcheck-")), "tanh.gnn");
    writeFileSync(file, program);
    expect(gradcheckCommand(file, options)).toBe(0);

    const tanh = getOp("tanh") as OpDef & { vjp: VjpRule };
    const right = tanh.vjp;
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((s: string) => void lines.push(s));
    vi.spyOn(console, "error").mockImplementation((s: string) => void lines.push(s));
    // d tanh = 1 − tanh², broken into 1 + tanh².
    Object.defineProperty(tanh, "vjp", {
      value: ((b, { outputs: [y] }, [d]) => [
        d && b.mul(d, b.add(b.fill(1), b.unary("square", y!))),
      ]) as VjpRule,
      configurable: true,
      writable: true,
    });
    try {
      expect(gradcheckCommand(file, options)).toBe(1);
    } finally {
      Object.defineProperty(tanh, "vjp", { value: right, configurable: true, writable: true });
    }
    const text = lines.join("\n");
    expect(text).toMatch(/blocks\.tanh_coupling\.W .*✗/);
    expect(text).toMatch(/gradients? off by more than 1\.00e-6/);
  });
});
