// Graph classification through the command line: a graph-level model trains on a batch of graphs
// and reports per-graph accuracy; a model and a dataset that label different things, and
// mini-batches that would cut graphs apart, are refused in one line (exit 1, no stack trace).
import { describe, expect, it } from "vitest";
import { noStack, runCli } from "../helpers/cli.js";

const GIN = "examples/revgin-graphs.gnn";
const quick = ["--epochs", "2", "--backend", "interpreter", "--set", "D=8", "--set", "L=1"];

function refused(args: string[], message: RegExp) {
  const r = runCli(args, { timeoutMs: 120_000 });
  noStack(r.err);
  // After the run's headline, one error line says what is wrong.
  const errors = r.err.split("\n").filter((l) => l.startsWith("error: "));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(message);
  expect(r.code, r.err).toBe(1);
}

describe("graph-level training from the command line", () => {
  it("trains RevGIN on synthetic graphs and reports accuracy over the graphs", () => {
    const r = runCli(["train", GIN, "--data", "synthetic-graphs:20", ...quick], {
      timeoutMs: 300_000,
    });
    expect(r.code, r.err).toBe(0);
    expect(r.out + r.err).toMatch(/synthetic-graphs-20: \d+ nodes/);
    // 20 graphs split 12 / 4 / 4: every accuracy is a multiple of a quarter (or of 1/12).
    expect(r.out).toMatch(/best valid accuracy (0|25|50|75|100)\.00%/);
  });

  it("refuses a node-level model on a batch of graphs", () => {
    refused(
      ["train", "examples/revgcn.gnn", "--data", "synthetic-graphs:20", ...quick],
      /the dataset synthetic-graphs-20 labels graphs; the model's y labels nodes/,
    );
  });

  it("refuses a graph-level model on a node-level dataset", () => {
    refused(
      ["train", GIN, "--data", "synthetic:30:60:4:2", ...quick],
      /the model predicts one target per graph .* labels nodes/,
    );
  });

  it("refuses --partitions on a batch of graphs", () => {
    refused(
      ["train", GIN, "--data", "synthetic-graphs:20", "--partitions", "2", ...quick],
      /--partitions 2 cuts the nodes into random parts, which would split the graphs/,
    );
  });
});
