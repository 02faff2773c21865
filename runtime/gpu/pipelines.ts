// Compute pipelines: compiled once per (WGSL text, entry point, binding kinds) and cached, with
// explicit bind group layouts built from a binding description. Explicit layouts (rather than
// layout: "auto") let kernels with the same binding shape share layouts and therefore bind groups,
// and keep a binding that the shader happens not to use from becoming a validation error.
//
// Binding convention (group 0, binding i = bindings[i]): storage buffers are "read" or
// "read_write"; at most one "uniform" binding holds the per-dispatch parameters and is bound with
// a dynamic offset into the command stream's parameter ring (see stream.ts), so its WGSL struct
// must fit in PARAMS_BINDING_BYTES.
import { GpuValidationError, type GpuContext } from "./device.js";

export type BindingKind = "read" | "read_write" | "uniform";

export interface BindingDesc {
  name: string;
  kind: BindingKind;
}

export interface KernelSource {
  code: string;
  entryPoint: string;
  bindings: readonly BindingDesc[];
  /** For error messages and GPU debug labels. */
  label?: string;
}

/** The byte range bound for a uniform parameter block: 64 words of u32/i32/f32. */
export const PARAMS_BINDING_BYTES = 256;

export interface CompiledKernel {
  readonly id: number;
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  /** Identifies the bind group layout: kernels with equal layoutId can share bind groups. */
  readonly layoutId: number;
  readonly bindings: readonly BindingDesc[];
  /** Binding index of the uniform parameter block, or -1. */
  readonly uniformSlot: number;
  /** Binding indices of the storage buffers, in the order dispatch() takes buffers. */
  readonly storageSlots: readonly number[];
}

export interface CompileMessage {
  type: "error" | "warning" | "info";
  line: number;
  column: number;
  message: string;
}

export class ShaderCompileError extends Error {
  constructor(
    readonly label: string,
    readonly messages: CompileMessage[],
    formatted: string,
  ) {
    super(formatted);
    this.name = "ShaderCompileError";
  }
}

interface LayoutEntry {
  id: number;
  layout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<CompiledKernel>>();
  private readonly layouts = new Map<string, LayoutEntry>();
  private nextKernelId = 1;

  constructor(private readonly ctx: GpuContext) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** The compiled kernel for `src`, compiling it on first use. */
  get(src: KernelSource): Promise<CompiledKernel> {
    const kinds = src.bindings.map((b) => b.kind).join(",");
    const key = `${src.entryPoint}\u0000${kinds}\u0000${src.code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.compile(src);
      // A failed compile is not cached: the caller sees the error, a retry compiles again.
      p.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, p);
    }
    return p;
  }

  private layoutFor(bindings: readonly BindingDesc[]): LayoutEntry {
    const key = bindings.map((b) => b.kind).join(",");
    let entry = this.layouts.get(key);
    if (entry) return entry;
    const { device } = this.ctx;
    const layout = device.createBindGroupLayout({
      label: `layout(${key})`,
      entries: bindings.map((b, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer:
          b.kind === "uniform"
            ? { type: "uniform", hasDynamicOffset: true, minBindingSize: 0 }
            : { type: b.kind === "read" ? "read-only-storage" : "storage" },
      })),
    });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    entry = { id: this.layouts.size + 1, layout, pipelineLayout };
    this.layouts.set(key, entry);
    return entry;
  }

  private async compile(src: KernelSource): Promise<CompiledKernel> {
    const { device } = this.ctx;
    const label = src.label ?? src.entryPoint;
    const uniformSlots = src.bindings.flatMap((b, i) => (b.kind === "uniform" ? [i] : []));
    if (uniformSlots.length > 1) {
      throw new Error(`kernel "${label}": at most one uniform binding is supported`);
    }
    const storageSlots = src.bindings.flatMap((b, i) => (b.kind === "uniform" ? [] : [i]));

    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: src.code, label });
    const scopeError = device.popErrorScope();
    const info = await this.ctx.guard(module.getCompilationInfo());
    const messages: CompileMessage[] = info.messages.map((m) => ({
      type: m.type,
      line: m.lineNum,
      column: m.linePos,
      message: m.message,
    }));
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0) {
      throw new ShaderCompileError(label, messages, formatCompileErrors(label, src.code, errors));
    }
    const moduleError = await this.ctx.guard(scopeError);
    if (moduleError) throw new GpuValidationError("validation", moduleError.message, label);

    const layout = this.layoutFor(src.bindings);
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.ctx.guard(
        device.createComputePipelineAsync({
          label,
          layout: layout.pipelineLayout,
          compute: { module, entryPoint: src.entryPoint },
        }),
      );
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new GpuValidationError("pipeline", msg, `kernel "${label}"`);
    }
    return {
      id: this.nextKernelId++,
      label,
      pipeline,
      bindGroupLayout: layout.layout,
      layoutId: layout.id,
      bindings: src.bindings,
      uniformSlot: uniformSlots[0] ?? -1,
      storageSlots,
    };
  }
}

/** "WGSL error in kernel X at 12:5: message", the source line and a caret under the column. */
export function formatCompileErrors(
  label: string,
  code: string,
  errors: readonly GPUCompilationMessage[],
): string {
  const lines = code.split("\n");
  const out = [`WGSL compile error in kernel "${label}":`];
  for (const m of errors) {
    out.push(`  line ${m.lineNum}:${m.linePos}: ${m.message}`);
    const text = lines[m.lineNum - 1];
    if (m.lineNum > 0 && text !== undefined) {
      const gutter = `${m.lineNum} | `;
      out.push(`    ${gutter}${text}`);
      const width = Math.max(1, Math.min(m.length || 1, text.length - m.linePos + 1));
      out.push(`    ${" ".repeat(gutter.length + Math.max(0, m.linePos - 1))}${"^".repeat(width)}`);
    }
  }
  return out.join("\n");
}
