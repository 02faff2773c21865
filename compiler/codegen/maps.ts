// The map kernel: one invocation per element of a materialised elementwise value, its whole
// inlined expression computed in place. Also the in-place variant of it, which writes the result
// over an input read only at the element being written.
import { shapeToString } from "../ir/dims.js";
import type { Value } from "../ir/types.js";
import type { KernelSpec, Step } from "../contract.js";
import { columnRun, emitter, rowRef, WORKGROUP, type KernelContext } from "./context.js";
import type { Coord, Sink } from "./expr.js";
import { gridOf, KernelBuilder } from "./kernel-builder.js";

/** Inputs the kernel could overwrite, and the variant that does (built only when one is used). */
export interface InPlaceOffer {
  candidates: Value[];
  variant: (c: Value) => KernelSpec;
}

export function mapKernel(ctx: KernelContext, out: Value): { step: Step; inPlace?: InPlaceOffer } {
  // The output of a map kernel is computed, not read, inside its own kernel.
  const others = new Set(ctx.materialised);
  others.delete(out);
  const build = (into?: Value) => {
    const kb = new KernelBuilder("map");
    if (into) kb.writeInto(out, into);
    const s = out.shape;
    const body: Sink = { lines: [], indent: "  " };
    // An [R, n] result may be computed `per` consecutive columns at a time (CPU drivers): the
    // row and column arithmetic and what depends only on the row are shared.
    const per = s.length === 2 ? ctx.columnsPerInvocation(s[1]!) : 1;
    const ex = emitter(ctx, kb, [body], "", others);
    let identity: string[];
    let grid;
    if (per > 1) {
      const cols = kb.dim(s[1]!);
      const groups = kb.dim(Number(s[1]) / per);
      body.lines.push(
        `  if (idx >= ${kb.dim(s[0]!)} * ${groups}) { return; }`,
        `  let row = idx / ${groups};`,
        `  let col = (idx % ${groups}) * ${per}u;`,
      );
      const colsAt = columnRun("col", per);
      const vals = colsAt.map((col) =>
        ex.at(out, { row: rowRef(kb, s[0]!, "row", 0), col, colLevel: 0 }),
      );
      // Every value is computed before any is written: an in-place variant reads its input at
      // these elements only.
      const o = kb.value(out, "read_write");
      identity = colsAt.map((col) => `row * ${cols} + ${col}`);
      vals.forEach((val, j) =>
        body.lines.push(`  ${o}[${kb.offset(out)} + ${identity[j]}] = ${val};`),
      );
      grid = gridOf([s[0]!, Number(s[1]) / per]);
    } else {
      const total = s.reduce<string>(
        (acc, d) => (acc === "1u" ? kb.dim(d) : `${acc} * ${kb.dim(d)}`),
        "1u",
      );
      body.lines.push(`  if (idx >= ${total}) { return; }`);
      let coord: Coord;
      if (s.length === 2) {
        const cols = kb.dim(s[1]!);
        body.lines.push(`  let row = idx / ${cols};`, `  let col = idx % ${cols};`);
        coord = { row: rowRef(kb, s[0]!, "row", 0), col: "col", colLevel: 0 };
      } else if (s.length === 1) coord = { col: "idx", colLevel: 0 };
      else if (s.length === 0) coord = { colLevel: 0 };
      else coord = { flat: "idx", colLevel: 0 };
      const val = ex.at(out, coord);
      const o = kb.value(out, "read_write");
      body.lines.push(`  ${o}[${kb.offset(out)} + idx] = ${val};`);
      identity = [s.length === 2 ? `row * ${kb.dim(s[1]!)} + col` : s.length === 0 ? "0u" : "idx"];
      grid = gridOf([...s]);
    }
    const header = [
      `${shapeToString(s)} ${out.hint ?? ""}${per > 1 ? `, ${per} columns per invocation` : ""}`,
      ...(into ? [`in place: overwrites ${into.hint ?? "its input"}`] : []),
    ];
    const spec = kb.finish(
      ctx.name(into ? "map_inplace" : "map", out.hint),
      body.lines.join("\n"),
      WORKGROUP,
      header,
      grid,
    );
    return { spec, candidates: into ? [] : kb.inPlaceCandidates(identity, out) };
  };
  const base = build();
  const step: Step = { kind: "kernel", kernel: ctx.register(base.spec), writes: [out] };
  const candidates = base.candidates.filter(
    (c) => c.shape.length === out.shape.length && c.shape.every((d, i) => d === out.shape[i]),
  );
  if (!candidates.length) return { step };
  return { step, inPlace: { candidates, variant: (c) => ctx.register(build(c).spec) } };
}
