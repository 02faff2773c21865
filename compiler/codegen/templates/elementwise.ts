// A fused elementwise map: out[i] = expr(in0[i], in1[i], ..., params) over `count` elements,
// e.g. y = relu(x * a + b) * c in one pass instead of three. Each invocation handles
// `tuning.elementwiseItems` vec4s (or elements on the scalar path) strided by the workgroup size,
// so neighbouring invocations touch neighbouring addresses, without a loop: on llvmpipe, loads
// outside loops skip the per-lane exec-mask tests, and 2 items per invocation measured ~1.5×
// faster than 1 (fewer invocations to schedule); GPUs use 1.
import type { Tuning } from "../../target.js";
import {
  assertIdent,
  ceilDiv,
  declareBindings,
  foldGrid,
  linearGroupId,
  packParams,
  paramsStruct,
  type KernelTemplate,
  type UniformField,
} from "./template.js";
import type { BindingSpec } from "../../contract.js";

export interface ElementwiseOptions {
  /** Names of the input tensors, bound in this order before the output. */
  inputs: string[];
  /** Name of the output tensor (may equal none of the inputs; in-place is a separate binding). */
  output: string;
  /**
   * WGSL expression of the result. Inputs are in scope by name as values of type T (vec4f on
   * the vec4 path, f32 otherwise), parameters as `params.<name>`, and `T` itself is an alias,
   * so constants can be written `T(0.0)`.
   */
  expr: string;
  params?: UniformField[];
  /** The caller guarantees count % 4 == 0 (vec4 loads and stores). */
  vec4?: boolean;
  label?: string;
}

export interface ElementwiseDims {
  count: number;
  extra?: Record<string, number>;
}

export function elementwise(
  opts: ElementwiseOptions,
  tuning: Tuning,
): KernelTemplate<ElementwiseDims> {
  for (const n of [...opts.inputs, opts.output]) assertIdent(n, "elementwise tensor");
  const vec4 = Boolean(opts.vec4);
  const T = vec4 ? "vec4f" : "f32";
  const wg = tuning.elementwiseWorkgroup;
  const items = tuning.elementwiseItems;
  const fields: UniformField[] = [{ name: "count", type: "u32" }, ...(opts.params ?? [])];
  const bindings: (BindingSpec & { type?: string })[] = [
    ...opts.inputs.map((name) => ({
      name: `${name}_buf`,
      kind: "read" as const,
      type: `array<${T}>`,
    })),
    { name: `${opts.output}_buf`, kind: "read_write", type: `array<${T}>` },
    { name: "params", kind: "uniform" },
  ];
  const label = opts.label ?? `elementwise_${vec4 ? "v4" : "s"}`;
  const code = `// ${label}: ${opts.output} = ${opts.expr}
// ${items} ${vec4 ? "vec4s (count % 4 == 0)" : "elements"} per invocation, strided by the workgroup size.
alias T = ${T};
${paramsStruct("EltParams", fields)}
${declareBindings(bindings, "EltParams")}
fn one(i: u32) {
${opts.inputs.map((n) => `  let ${n} = ${n}_buf[i];`).join("\n")}
  ${opts.output}_buf[i] = ${opts.expr};
}

@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let n = ${vec4 ? "params.count / 4u" : "params.count"};
  let base = ${linearGroupId} * ${wg * items}u + lid;  // items base, base + ${wg}, ...
  if (base + ${(items - 1) * wg}u < n) {
${Array.from({ length: items }, (_, j) => `    one(base + ${j * wg}u);`).join("\n")}
  } else {
${Array.from({ length: items }, (_, j) => `    if (base + ${j * wg}u < n) { one(base + ${j * wg}u); }`).join("\n")}
  }
}
`;
  return {
    label,
    code,
    entryPoint: "main",
    bindings,
    workgroupSize: [wg, 1, 1],
    uniforms: fields,
    dispatch: (d) =>
      foldGrid(ceilDiv(vec4 ? d.count / 4 : d.count, wg), tuning.maxWorkgroupsPerDim),
    params: (d) => {
      if (vec4 && d.count % 4 !== 0)
        throw new Error(`${label}: count ${d.count} is not a multiple of 4`);
      return packParams(fields, { ...d.extra, count: d.count });
    },
  };
}
