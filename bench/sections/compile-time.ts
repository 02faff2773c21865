// Compile time and kernel count against depth. The compiler keeps `repeat L` as one loop over
// a single compiled body with stacked parameters, so neither should grow with L: L only enters
// as a loop count and in parameter shapes.
import { DryRunBackend } from "../../runtime/exec/backend.js";
import { Session } from "../../driver/session.js";
import { summarize } from "../lib/stats.js";
import type { CompilePoint, CompileSection, ModelName } from "../types.js";
import { MODEL_FILES } from "./models.js";
import { compileFile, expectModel, type CompiledModel } from "../../compiler/compile.js";
import { join } from "node:path";
import { defaultOptimizer } from "../../compiler/optimizers.js";

export interface CompileOptions {
  root: string;
  model: ModelName;
  D: number;
  depths: number[];
  reps: number;
  log?: (msg: string) => void;
}

export function compileSection(o: CompileOptions): CompileSection {
  const file = join(o.root, MODEL_FILES[o.model]);
  const optimizer = defaultOptimizer("adam", 5e-4);
  const points: CompilePoint[] = [];
  // Warm-up: module loading and the JIT's first compilations belong to no depth.
  for (let i = 0; i < 3; i++) {
    const m = expectModel(compileFile(file, { set: { L: "2", D: String(o.D) } }));
    void new Session(new DryRunBackend(), m, { optimizer, storeActivations: false }).stepProgram;
  }
  for (const L of o.depths) {
    const front: number[] = [];
    const back: number[] = [];
    let stepKernels = 0;
    let evalKernels = 0;
    for (let r = 0; r < Math.max(1, o.reps); r++) {
      const t0 = performance.now();
      const model: CompiledModel = expectModel(
        compileFile(file, { set: { L: String(L), D: String(o.D) } }),
      );
      const t1 = performance.now();
      // The Session builds the training-step and evaluation graphs (autodiff, optimizer update)
      // and generates their kernels when its programs are first asked for; on the dry-run
      // backend it touches no device.
      const s = new Session(new DryRunBackend(), model, { optimizer, storeActivations: false });
      stepKernels = s.stepProgram.kernels.length;
      evalKernels = s.evalProgram.kernels.length;
      const t2 = performance.now();
      front.push((t1 - t0) / 1000);
      back.push((t2 - t1) / 1000);
    }
    const p = { L, frontend: summarize(front), codegen: summarize(back), stepKernels, evalKernels };
    points.push(p);
    o.log?.(
      `[compile] L=${L}: ${(p.frontend.median * 1000).toFixed(1)} ms + ${(p.codegen.median * 1000).toFixed(1)} ms, ` +
        `${stepKernels} step kernels, ${evalKernels} eval kernels`,
    );
  }
  return { model: `${o.model} (D = ${o.D})`, points };
}
