// The language reference documents every built-in function, loss and prelude layer.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { prelude } from "../../compiler/compile.js";
import { aggregations, aggregationSyntax } from "../../compiler/lower/aggregations.js";
import { builtins, LOSSES } from "../../compiler/lower/builtins.js";
import { HYPER_SYMBOL, optimizers, type Optimizer } from "../../compiler/optimizers.js";

const reference = readFileSync("grammar/README.md", "utf8");

/** The rows of the markdown table whose header row starts with `| first |`, as trimmed cells. */
function tableRows(text: string, first: string): string[][] {
  const lines = text.split("\n");
  const header = lines.findIndex((l) => l.split("|")[1]?.trim() === first);
  if (header < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe("language reference", () => {
  it("lists every built-in and loss", () => {
    const missing = [...builtins.map((b) => b.name), ...LOSSES.keys()].filter(
      (n) => !reference.includes(`\`${n}(`),
    );
    expect(missing).toEqual([]);
  });
  it("the aggregation table is the registry: each aggregation, its syntax and its doc line", () => {
    const documented = tableRows(reference, "R");
    expect(documented).toEqual(aggregations.map((a) => [`\`${aggregationSyntax(a)}\``, a.doc]));
  });
  it("README.md's optimizer table is the registry: kind, doc, state names, defaults", () => {
    const readme = readFileSync("README.md", "utf8");
    const states = (o: Optimizer) => o.states.map((s) => `\`${s}\``).join(", ") || "none";
    const defaults = ({ defaults: d, reads }: Optimizer) =>
      [
        `lr ${d.lr}`,
        `weight decay ${d.weightDecay}`,
        ...reads.map((h) => `${HYPER_SYMBOL[h]} ${d[h]}`),
      ].join(", ");
    expect(tableRows(readme, "K")).toEqual(
      optimizers.map((o) => [`\`${o.kind}\``, o.doc, states(o), defaults(o)]),
    );
  });
  it("lists every prelude layer", () => {
    const layers = prelude()
      .program.decls.filter((d) => d.kind === "layer")
      .map((d) => d.name.name);
    expect(layers.filter((n) => !reference.includes(`\`${n}(`))).toEqual([]);
  });
  it("examples/README.md explains every example", () => {
    const text = readFileSync("examples/README.md", "utf8");
    const missing = readdirSync("examples")
      .filter((f) => f.endsWith(".gnn"))
      .filter((f) => !text.includes(f));
    expect(missing).toEqual([]);
  });
});
