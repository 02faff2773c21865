// The target description: the adapter the kernels are compiled for and its tuning.
// Per-adapter tuning: which kernel variant and which tile / workgroup shapes the templates use.
// Chosen from the adapter class; the numbers for "cpu" were measured on Mesa lavapipe (llvmpipe,
// 8-wide AVX2 SIMD across invocations, 2 cores) with bench/kernels.ts; the "gpu" numbers are the
// conventional choices for NVIDIA/AMD-class hardware (not measured here: no GPU in CI).
export type AdapterClass = "cpu" | "discrete" | "integrated" | "unknown";

/** What the runtime reads off its adapter: the input of the target description. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** "cpu" for software rasterisers (lavapipe / llvmpipe / SwiftShader / WARP). */
  class: AdapterClass;
  isFallback: boolean;
  /** One line for logs and benchmark tables. */
  text: string;
}

export interface MatmulBlock {
  /** Invocations per workgroup (a multiple of the subgroup size). */
  workgroupSize: number;
  /** Rows of C per invocation. */
  rows: number;
  /** Columns of C per workgroup (multiple of 4), shared by all its invocations. */
  cols: number;
}

export interface Tuning {
  adapterClass: AdapterDescription["class"];
  /** The adapter's fixed subgroup size when subgroups are usable, else null. */
  subgroupSize: number | null;
  maxWorkgroupsPerDim: number;
  matmul: {
    variant: "subgroup" | "tiled";
    /** Block shape for the "nn"/"nt" forms (lanes walk rows of C). */
    nn: MatmulBlock;
    /** Block shape for the "tn" form (lanes walk groups of 4 rows of C). */
    tn: MatmulBlock;
  };
  /** K rows per split-K chunk (multiple of 4): more chunks = more parallelism + workspace. */
  splitKRows: number;
  spmm: {
    /** "subgroup": a subgroup shares one destination row and its edge list (see spmm.ts). */
    variant: "subgroup" | "plain";
    workgroupSize: number;
    /** "subgroup" variant: vec4 channel quads per lane, and whether a lane's quads interleave. */
    quadsPerLane: number;
    interleave: boolean;
    /** "subgroup" variant: touch the source rows of a chunk of edges before walking them. */
    prefetch: "none" | "chunk";
  };
  /** Workgroup size of elementwise and small reduction kernels. */
  elementwiseWorkgroup: number;
  /** Elements (vec4s) per invocation of elementwise kernels. */
  elementwiseItems: number;
  /** Rows per chunk in column reductions (stage 1). */
  reduceRowsPerChunk: number;
  /**
   * How row kernels state their column loops' trip counts. "literal": a WGSL constant (the
   * driver may unroll). "parameter": a word of the parameter block, like a symbolic size. On
   * lavapipe a literal count makes the loop unroll completely into per-lane gathers and
   * scatters: the optimizer update of a [3, 32] parameter (five 32-column loops) took 32 s of
   * LLVM time against 0.5 s with parameter counts, and a row loop is memory-bound either way.
   */
  rowLoopCounts: "literal" | "parameter";
  /**
   * Consecutive columns one invocation of a fused graph kernel (segments.ts), an elementwise
   * map kernel (maps.ts) or a column sum (reductions.ts) computes, and one iteration of a row
   * kernel's column loop (rows.ts). On lavapipe every load is a per-lane scalar sequence with
   * bounds checks, so what a (node, column) invocation reads besides the column's own element
   * (the edge's source, degrees, normalisation; the row and column index arithmetic) costs as
   * much as the element: four columns per invocation share it. Cora's GCN aggregation at
   * D = 32: 1.3–1.6 ms → 0.6–0.7 ms; an [N, 32] map 0.62 → 0.40 ms. GPUs keep one column per
   * invocation (consecutive lanes read consecutive words).
   */
  columnsPerInvocation: number;
  /**
   * Pass parameter blocks that fit as immediate data (setImmediates) instead of a uniform
   * binding at a dynamic offset. On lavapipe a dynamic offset costs ~25 µs per dispatch
   * (scratch kernels with 8 storage bindings: 50–60 µs a dispatch against 25–30 µs); GPUs keep
   * the uniform ring (not measured here).
   */
  paramsInImmediates: boolean;
}

export function chooseTuning(
  info: AdapterDescription,
  limits: GPUSupportedLimits,
  subgroups: {
    enabled: boolean;
    minSize: number;
    maxSize: number;
  },
): Tuning {
  const maxWorkgroupsPerDim = limits.maxComputeWorkgroupsPerDimension;
  const fixedSubgroup =
    subgroups.enabled && subgroups.minSize > 0 && subgroups.minSize === subgroups.maxSize
      ? subgroups.minSize
      : null;
  if (info.class === "cpu" && fixedSubgroup !== null && 64 % fixedSubgroup === 0) {
    return {
      adapterClass: info.class,
      subgroupSize: fixedSubgroup,
      maxWorkgroupsPerDim,
      // 64 invocations x 2 rows x 16 columns: 32 vec4 accumulators fit the registers; more
      // rows or columns spill and measured slower, fewer waste the broadcast tile.
      matmul: {
        variant: "subgroup",
        nn: { workgroupSize: 64, rows: 2, cols: 16 },
        tn: { workgroupSize: 32, rows: 4, cols: 8 },
      },
      splitKRows: 2048,
      spmm: {
        variant: "subgroup",
        workgroupSize: 64,
        quadsPerLane: 4,
        interleave: false,
        prefetch: "chunk",
      },
      elementwiseWorkgroup: 64,
      elementwiseItems: 2,
      reduceRowsPerChunk: 2048,
      rowLoopCounts: "parameter",
      columnsPerInvocation: 4,
      paramsInImmediates: true,
    };
  }
  return {
    adapterClass: info.class,
    subgroupSize: fixedSubgroup,
    maxWorkgroupsPerDim,
    matmul: {
      variant: "tiled",
      nn: { workgroupSize: 256, rows: 4, cols: 64 },
      tn: { workgroupSize: 256, rows: 4, cols: 64 },
    },
    splitKRows: 512,
    spmm: {
      variant: "plain",
      workgroupSize: 128,
      quadsPerLane: 1,
      interleave: true,
      prefetch: "none",
    },
    elementwiseWorkgroup: 256,
    elementwiseItems: 1,
    reduceRowsPerChunk: 256,
    rowLoopCounts: info.class === "cpu" ? "parameter" : "literal",
    columnsPerInvocation: info.class === "cpu" ? 4 : 1,
    paramsInImmediates: info.class === "cpu",
  };
}

/** What the kernels are generated for: the adapter's tuning and its storage-buffer limit. */
export interface Target {
  /** Undefined: portable generated kernels only (no adapter-specific templates). */
  tuning?: Tuning;
  /** Storage buffers a kernel may bind (8 when unknown). */
  maxStorageBuffers?: number;
  /**
   * Bytes of immediate data a dispatch may carry (the device's maxImmediateSize where the
   * tuning asks for immediates; 0 or absent: parameter blocks stay uniform bindings).
   */
  immediateBytes?: number;
}

/** The immediates a device offers for parameter blocks under this tuning (see Tuning.paramsInImmediates). */
export function immediateBytesFor(tuning: Tuning | undefined, limits: GPUSupportedLimits): number {
  const limit = (limits as { maxImmediateSize?: number }).maxImmediateSize ?? 0;
  return tuning?.paramsInImmediates ? limit : 0;
}

/**
 * The target a run on this kind of adapter compiles for, without a device: lavapipe's ("cpu":
 * subgroups of 8, 16 storage buffers) or a discrete GPU's ("gpu"). `plan` and `compile` use it;
 * `train` reads the real adapter, which for lavapipe gives the same tuning.
 */
export function nominalTarget(kind: "cpu" | "gpu"): Target {
  const description = {
    vendor: "",
    architecture: "",
    device: "",
    description: kind,
    class: kind === "cpu" ? "cpu" : "discrete",
    isFallback: false,
    text: kind,
  } satisfies AdapterDescription;
  const limits = { maxComputeWorkgroupsPerDimension: 65535 } as GPUSupportedLimits;
  return {
    tuning: chooseTuning(description, limits, { enabled: kind === "cpu", minSize: 8, maxSize: 8 }),
    maxStorageBuffers: kind === "cpu" ? 16 : 8,
    // lavapipe (Dawn 0.6.2, Mesa 25) offers 64 bytes of immediates.
    ...(kind === "cpu" ? { immediateBytes: 64 } : {}),
  };
}
