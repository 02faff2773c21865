// The language reference documents every built-in function, loss and prelude layer.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { prelude } from "../../compiler/compile.js";
import { builtins, LOSSES } from "../../compiler/lower/builtins.js";

const reference = readFileSync("grammar/README.md", "utf8");

describe("language reference", () => {
  it("lists every built-in and loss", () => {
    const missing = [...builtins.map((b) => b.name), ...LOSSES.keys()].filter(
      (n) => !reference.includes(`\`${n}(`),
    );
    expect(missing).toEqual([]);
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
