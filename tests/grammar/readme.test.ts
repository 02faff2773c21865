// The examples in the language reference (grammar/README.md) are valid programs: whole
// declarations parse as they are, statement examples inside a layer.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { parseProgram } from "../../grammar/index.js";

const readme = readFileSync(new URL("../../grammar/README.md", import.meta.url), "utf8");

/** The text of each fenced code block without a language tag (the `ebnf` ones are grammar). */
function untaggedBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let open: { tag: string; lines: string[] } | undefined;
  for (const line of markdown.split("\n")) {
    const fence = /^```(\w*)$/.exec(line);
    if (fence && !open) open = { tag: fence[1], lines: [] };
    else if (fence && open) {
      if (open.tag === "") blocks.push(open.lines.join("\n") + "\n");
      open = undefined;
    } else open?.lines.push(line);
  }
  return blocks;
}

const blocks = untaggedBlocks(readme);

const declarations = blocks.filter((b) => /^(layer|model) /.test(b) && !b.includes("…"));
const statements = blocks.filter((b) => /^(return|let|h =) /.test(b));

it("finds the examples", () => {
  expect(declarations.length).toBeGreaterThanOrEqual(2);
  expect(statements.length).toBeGreaterThanOrEqual(3);
});

it.each(declarations)("declaration example %#", (text) => {
  expect(parseProgram(text, "README.md").diagnostics).toEqual([]);
});

it.each(statements)("statement example %#", (text) => {
  const layer = `layer t(x: [N, d], h: [N, d]; C: int, p: float) -> [N, d] {\n${text}}\n`;
  expect(parseProgram(layer, "README.md").diagnostics).toEqual([]);
});
