// grammar/cst.d.ts is generated from the grammar (`npm run build && npm run gen:cst`); the AST
// builder is typed with it, so it must not fall behind parser.ts.
import { generateCstDts } from "../../grammar/chevrotain.js";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { AstBuilder } from "../../grammar/ast-builder.js";
import { parser } from "../../grammar/parser.js";
import { DiagnosticBag } from "../../grammar/diagnostics.js";

it("the committed cst.d.ts is what the grammar generates", () => {
  const committed = readFileSync(new URL("../../grammar/cst.d.ts", import.meta.url), "utf8");
  expect(committed).toBe(generateCstDts(parser.getGAstProductions()));
});

it("the AST builder has a method for every grammar rule", () => {
  // The constructor runs chevrotain's validateVisitor, which throws on a missing method.
  expect(() => new AstBuilder("t.gnn", new DiagnosticBag())).not.toThrow();
});
