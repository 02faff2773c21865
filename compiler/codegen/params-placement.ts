// Where a kernel's parameter block lives. Every kernel is generated with it as a uniform
// binding (`@group(0) @binding(i) var<uniform> NAME: TYPE;`), bound at a dynamic offset into
// the command stream's parameter ring. Where the target allows immediates (Target.immediateBytes)
// and the block fits, this pass turns the declaration into `var<immediate> NAME: TYPE;`: the
// runtime then sets the block with setImmediates and binds no buffer for it. On lavapipe a
// dispatch whose bind group has a dynamic offset costs ~25 µs more than one without (measured
// with scratch kernels: 50–60 vs 25–30 µs with 8 storage bindings), which is ~8 ms of Cora's
// 326-dispatch RevGCN step at L = 10.
import type { BindingSpec, KernelSpec } from "../contract.js";

/** The parameter block's struct, when every field is a 4-byte scalar: its size in words. */
function blockWords(code: string, type: string): number | undefined {
  const m = new RegExp(`struct ${type} \\{([^}]*)\\}`).exec(code);
  if (!m) return undefined;
  const fields = m[1]!
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  if (!fields.every((f) => /^[A-Za-z_][A-Za-z0-9_]*\s*:\s*(u32|i32|f32)$/.test(f)))
    return undefined;
  return fields.length;
}

/**
 * `spec` with its uniform parameter block moved into immediates when it fits in
 * `immediateBytes` (0: never); otherwise `spec` itself. The WGSL changes only in that one
 * declaration; the block's layout and the words the runtime packs stay the same.
 */
export function placeParams(spec: KernelSpec, immediateBytes: number): KernelSpec {
  if (immediateBytes <= 0) return spec;
  const slot = spec.bindings.findIndex((b) => b.kind === "uniform");
  if (slot < 0) return spec;
  const decl = new RegExp(
    `@group\\(0\\) @binding\\(${slot}\\) var<uniform> ([A-Za-z_][A-Za-z0-9_]*): ([A-Za-z_][A-Za-z0-9_]*);`,
  ).exec(spec.code);
  if (!decl) return spec;
  const words = blockWords(spec.code, decl[2]!);
  if (words === undefined || words * 4 > immediateBytes) return spec;
  const bindings: BindingSpec[] = spec.bindings.map((b, i) =>
    i === slot ? { name: b.name, kind: "immediate", words } : b,
  );
  return {
    ...spec,
    code: spec.code.replace(decl[0], `var<immediate> ${decl[1]}: ${decl[2]};`),
    bindings,
  };
}
