// The column and full sums: a lone sum and a group fused at the end of a block (CPU drivers) come
// from one chunked two-stage builder, so they chunk the rows, size the partials and add them back
// the same way. Generation only: no device needed.
import { describe, expect, it } from "vitest";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { generateProgram } from "../../compiler/codegen/generate.js";
import { nominalTarget } from "../../compiler/target.js";
import type { KernelSpec, Program } from "../../compiler/contract.js";

/** x [N, 8] and y [N, 4] → col_sum(x²), sum_all(y): nothing in the block reads either sum. */
function sums() {
  const g = newGraph("sums", [
    ["N", 8],
    ["N", 4],
  ]);
  const b = new Builder(g);
  const [x, y] = g.inputs as [(typeof g.inputs)[0], (typeof g.inputs)[0]];
  const cs = b.op("col_sum", [b.mul(x!, x!)]);
  cs.hint = "xsq";
  const total = b.op("sum_all", [y!]);
  total.hint = "ytotal";
  g.outputs = [cs, total];
  return g;
}

function kernelsOf(p: Program): KernelSpec[] {
  return p.main.steps.flatMap((s) => (s.kind === "kernel" ? [s.kernel] : []));
}

describe("chunked two-stage sums", () => {
  const lone = generateProgram(sums());
  const fused = generateProgram(sums(), nominalTarget("cpu"));

  it("a lone sum gets its own pair; on CPU drivers the block's sums share one pair", () => {
    expect(kernelsOf(lone).map((k) => k.kind)).toEqual([
      "column_reduce_partials",
      "column_reduce_final",
      "column_reduce_partials",
      "column_reduce_final",
    ]);
    expect(kernelsOf(fused).map((k) => k.kind)).toEqual([
      "column_program_partials",
      "column_program_final",
    ]);
  });

  it("both size the partials as one row per chunk of 256 rows", () => {
    for (const p of [lone, fused]) {
      // The partials are what the stage-1 kernels write.
      const partials = p.main.steps.flatMap((s) =>
        s.kind === "kernel" && s.kernel.kind.endsWith("partials") ? s.writes : [],
      );
      const sizes = partials.map((v) => p.workspace.get(v)!);
      expect(sizes.map((w) => w.formula)).toEqual(["ceil(N/256)*8", "ceil(N/256)*4"]);
      expect(sizes.map((w) => w.elements({ N: 1000 }))).toEqual([4 * 8, 4 * 4]);
    }
  });

  it("both sum each chunk of rows in order and add the partials in chunk order", () => {
    for (const p of [lone, fused]) {
      const [stage1, stage2] = kernelsOf(p)
        .filter((k) => k.kind.endsWith("partials") || k.kind.endsWith("final"))
        .reduce<[string, string]>(
          ([a, b], k) => (k.kind.endsWith("partials") ? [a + k.code, b] : [a, b + k.code]),
          ["", ""],
        );
      expect(stage1).toContain("let r0 = chunk * 256u;");
      expect(stage1).toContain("let r1 = min(r0 + 256u, P.dim_N);");
      expect(stage1.match(/for \(var r = r0; r < r1; r = r \+ 1u\)/g)).toHaveLength(2);
      // The column sum reads its own column of each chunk; the total reads every partial.
      expect(stage2).toMatch(
        /for \(var k = 0u; k < \(\(P\.dim_N \+ 255u\) \/ 256u\); k = k \+ 1u\)/,
      );
      expect(stage2).toMatch(/\+ k \* 8u \+ idx\]/);
      expect(stage2).toMatch(/k < \(\(P\.dim_N \+ 255u\) \/ 256u\) \* 4u;/);
    }
  });

  it("stage 1 covers every chunk of the widest sum, even over no rows", () => {
    const [loneStage1] = kernelsOf(lone);
    const [fusedStage1] = kernelsOf(fused);
    expect(loneStage1!.grid.threads({ N: 1000 })).toBe(4 * 8);
    // On CPU drivers an invocation sums four consecutive columns: 8 columns are 2 runs.
    expect(fusedStage1!.grid.threads({ N: 1000 })).toBe(4 * 2);
    expect(fusedStage1!.grid.threads({ N: 0 })).toBe(2);
    expect(fusedStage1!.code).toContain("let col = (idx % 2u) * 4u;");
  });
});
