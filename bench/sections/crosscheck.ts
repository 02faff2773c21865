// The gradient cross-check against PyTorch: one training step of each example that has a PyTorch
// twin (RevGCN, ResGCN; bench/torch/revgnn_torch.py), on Cora and on every degenerate graph
// (runtime/data/degenerate.ts), from the same initial parameters.
//
// revgnn's side is the real training path: a Session (what `revgnn train` drives) runs its step
// program with SGD, weight decay 0, and the gradient is read from the update, g = (p0 − p1)/lr.
// Both schedules run: the default (reversible loops rebuild their inputs through the derived
// inverse) and --store-activations (plain backprop). The learning rate is a power of two large
// enough that the update dominates p0: with lr = 1 the subtraction p0 − g rounds at p0's scale,
// which for a tensor whose gradient is 1e-4 of its values (a LayerNorm gain) is a relative
// error of ~1e-3 in the recovered gradient; with lr = 2^20 it is float32's roundoff. Every row
// reports that bound ("readback floor").
//
// The reference is PyTorch in float64 with plain autograd through the blocks: the mathematical
// gradient, computed independently (its own A_hat from the exported CSR, its own LayerNorm).
// PyTorch in float32 (plain autograd and, for RevGCN, RevStack's inverse + re-forward as
// memcnn does) is compared against the same reference, so that revgnn's errors can be read
// against what float32 costs PyTorch on the same problem.
//
// Dropout is off (p = 0): with p > 0 both sides would need the same masks, and the masks are
// not what is being checked.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { compileFile, expectModel, type CompiledModel } from "../../compiler/compile.js";
import { numElements } from "../../compiler/ir/dims.js";
import { DEGENERATE_DESCRIPTIONS, degenerateDataset } from "../../runtime/data/degenerate.js";
import { loadDataset } from "../../runtime/data/load.js";
import type { Dataset } from "../../runtime/data/types.js";
import type { Backend } from "../../runtime/exec/backend.js";
import { initParameters } from "../../driver/init.js";
import { Session, bindDims } from "../../driver/session.js";
import { seconds } from "../lib/format.js";
import {
  agrees,
  compareTensors,
  gradientFromStep,
  relativeError,
  sci,
  worstTensor,
} from "../lib/gradcheck.js";
import {
  exportGraph,
  paramSpecs,
  twinHypers,
  writeParams,
  type ParamExportSpec,
} from "../lib/torch-export.js";
import type { CrosscheckRow, CrosscheckSection, ModelName } from "../types.js";
import { MODEL_FILES } from "./models.js";
import type { GpuRig } from "./rig.js";
import type { TorchProbe } from "./torch.js";
import { CROSSCHECK_DATASETS, type CrosscheckDataset } from "../config.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

export const CROSSCHECK_MODELS: readonly ModelName[] = ["RevGCN", "ResGCN"];

/** float32 against float64 through a few blocks: errors of 1e-7–1e-6 are roundoff; 1e-4 is not. */
export const DEFAULT_THRESHOLD = 1e-4;
/** See the header: large enough that reading the gradient back costs only float32's roundoff. */
export const DEFAULT_LR = 2 ** 20;

export interface CrosscheckOptions {
  root: string;
  rig: GpuRig;
  probe: TorchProbe | { error: string };
  models?: readonly ModelName[];
  datasets?: readonly CrosscheckDataset[];
  seed?: number;
  lr?: number;
  threshold?: number;
  log: (msg: string) => void;
}

/** Each example compiled as the cross-check runs it: its defaults, without dropout. */
export function crosscheckModel(root: string, model: ModelName): CompiledModel {
  return expectModel(compileFile(join(root, MODEL_FILES[model]), { set: { p: "0" } }));
}

/** Issue 9's reproduction: Cora with the feature rows of these nodes all zero (empty documents). */
export const CORA_EMPTY_ROWS = { from: 2000, to: 2014 };

export async function crosscheckDataset(root: string, key: CrosscheckDataset): Promise<Dataset> {
  if (key !== "cora" && key !== "cora-empty-rows") return degenerateDataset(key);
  const ds = await loadDataset(join(root, "data", "cora"));
  if (key === "cora") return ds;
  // Zeroing after the loader's row normalisation is what zeroing the rows in the file gives: a
  // zero row stays zero.
  const features = ds.features.slice();
  const f = ds.numFeatures;
  features.fill(0, CORA_EMPTY_ROWS.from * f, (CORA_EMPTY_ROWS.to + 1) * f);
  return { ...ds, name: `${ds.name} with empty rows`, features };
}

export function describeCrosscheckDataset(key: CrosscheckDataset, ds: Dataset): string {
  if (key === "cora") return `Cora (${ds.source})`;
  if (key === "cora-empty-rows")
    return `Cora with the feature rows of nodes ${CORA_EMPTY_ROWS.from}–${CORA_EMPTY_ROWS.to} all zero (issue 9's reproduction)`;
  return DEGENERATE_DESCRIPTIONS[key];
}

export interface StepGradient {
  loss: number;
  grads: Float64Array[];
  /** Per tensor: the largest absolute error reading the gradient back can add (see gradientFromStep). */
  floors: number[];
}

/**
 * One SGD step (weight decay 0) of the model's training-step program from `init`, as
 * `revgnn train --optimizer sgd --weight-decay 0` runs it (Session.step at optimizer time 1),
 * and the gradient it applied. Every buffer is handed back before returning.
 */
export async function revgnnStepGradient<H, K>(
  backend: Backend<H, K> & { memory: { trim(): void } },
  model: CompiledModel,
  ds: Dataset,
  init: Float32Array[],
  o: { storeActivations: boolean; lr: number; seed: number },
): Promise<StepGradient> {
  const session = new Session(backend, model, {
    optimizer: defaultOptimizer("sgd", 0),
    storeActivations: o.storeActivations,
  });
  await session.bind(ds);
  try {
    session.setParameters(init);
    const loss = await session.step(o.lr, 1, o.seed);
    const { params } = await session.readState();
    const got = init.map((p0, i) => gradientFromStep(p0, params[i]!, o.lr));
    return { loss, grads: got.map((g) => g.grad), floors: got.map((g) => g.floor) };
  } finally {
    session.setParameters([]);
    session.unbind();
    backend.memory.trim();
  }
}

interface TorchGradients {
  torch: string;
  variants: Record<string, { loss: number; file: string }>;
}

/** The twin's gradients, one Float64Array per parameter (in spec order), per variant. */
function torchGradients(
  python: string,
  script: string,
  dir: string,
  cfg: Record<string, unknown>,
  specs: readonly ParamExportSpec[],
): { torch: string; variants: Map<string, { loss: number; grads: Float64Array[] }> } {
  const cfgFile = join(dir, `gradients-${String(cfg.model)}.json`);
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const threads = cpus().length;
  const r = spawnSync(python, [script, "--gradients", dir, cfgFile], {
    encoding: "utf8",
    timeout: 600_000,
    maxBuffer: 16 << 20,
    env: { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: "PASSIVE" },
  });
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.stderr || "").trim().split("\n").slice(-3).join(" | ");
    throw new Error(`python ${r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}: ${why}`);
  }
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as TorchGradients;
  const variants = new Map<string, { loss: number; grads: Float64Array[] }>();
  for (const [name, v] of Object.entries(out.variants)) {
    const raw = readFileSync(v.file);
    const all = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
    const grads: Float64Array[] = [];
    let off = 0;
    for (const s of specs) {
      const n = numElements(s.shape);
      grads.push(all.slice(off, off + n));
      off += n;
    }
    if (off !== all.length)
      throw new Error(`${name}: ${all.length} gradient values for ${off} parameters`);
    variants.set(name, { loss: v.loss, grads });
  }
  return { torch: out.torch, variants };
}

export async function crosscheckSection(o: CrosscheckOptions): Promise<CrosscheckSection> {
  const t0 = performance.now();
  const seed = o.seed ?? 0;
  const lr = o.lr ?? DEFAULT_LR;
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  const models = o.models ?? CROSSCHECK_MODELS;
  const keys = o.datasets ?? CROSSCHECK_DATASETS;
  const section: CrosscheckSection = {
    available: false,
    note: "",
    threshold,
    seed,
    lr,
    models: [],
    datasets: [],
    rows: [],
    failures: [],
    seconds: 0,
  };
  if ("error" in o.probe) {
    section.note = o.probe.error;
    o.log(`[crosscheck] not run: ${o.probe.error}`);
    return section;
  }
  section.available = true;
  section.python = o.probe.python;
  section.torch = o.probe.torch;
  section.note =
    `One training step of each model at its defaults without dropout (p = 0), from the initial ` +
    `parameters of seed ${seed}: revgnn's step program (Session.step, as \`revgnn train\` runs it) ` +
    `with SGD, learning rate 2^${Math.log2(lr)} and no weight decay, the gradient read back as ` +
    "(p0 − p1) / lr (the readback adds at most float32's roundoff of p1 / lr).";
  const script = join(o.root, "bench", "torch", "revgnn_torch.py");
  const compiled = new Map<ModelName, CompiledModel>();
  for (const m of models) {
    const model = crosscheckModel(o.root, m);
    compiled.set(m, model);
    section.models.push({ model: m, file: MODEL_FILES[m], hypers: { ...model.train.hypers } });
  }
  const tmp = mkdtempSync(join(tmpdir(), "revgnn-crosscheck-"));
  try {
    for (const key of keys) {
      const ds = await crosscheckDataset(o.root, key);
      section.datasets.push({
        key,
        description: describeCrosscheckDataset(key, ds),
        nodes: ds.graph.numNodes,
        edges: ds.graph.numEdges,
        features: ds.numFeatures,
        classes: ds.labels.kind === "single" ? ds.labels.numClasses : 0,
        train: ds.split.train.length,
      });
      const dir = join(tmp, key);
      mkdirSync(dir, { recursive: true });
      exportGraph(dir, ds);
      for (const m of models) {
        const model = compiled.get(m)!;
        const names = model.train.params.map((p) => p.name);
        const dims = bindDims(model.train.inputs, ds);
        const init = initParameters(model.train.params, dims, seed);
        const specs = paramSpecs(model, dims);
        const paramsFile = join(dir, `params-${m}.bin`);
        writeParams(paramsFile, init);
        const rev = m === "RevGCN";
        let torch: ReturnType<typeof torchGradients>;
        try {
          const p0 = performance.now();
          torch = torchGradients(
            o.probe.python,
            script,
            dir,
            {
              model: rev ? "rev" : "res",
              L: Number(model.train.hypers.L),
              ...twinHypers(model),
              params_file: paramsFile,
              params: specs,
              out_dir: dir,
              threads: cpus().length,
              variants: ["autograd-f64", "autograd-f32", ...(rev ? ["revstack-f32"] : [])],
            },
            specs,
          );
          o.log(
            `[crosscheck] ${m} on ${key}: PyTorch gradients in ${seconds((performance.now() - p0) / 1000)}`,
          );
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          section.failures.push({ model: m, dataset: key, reason });
          o.log(`[crosscheck] ${m} on ${key}: PyTorch FAILED: ${reason}`);
          continue;
        }
        const ref = torch.variants.get("autograd-f64")!;
        const row = (
          schedule: CrosscheckRow["schedule"],
          loss: number,
          grads: ArrayLike<number>[],
          floors?: number[],
        ): CrosscheckRow => {
          const r: CrosscheckRow = {
            model: m,
            dataset: key,
            schedule,
            loss: { got: loss, ref: ref.loss, error: relativeError([loss], [ref.loss]).error },
            tensors: compareTensors(names, grads, ref.grads, floors),
          };
          section.rows.push(r);
          const worst = worstTensor(r.tensors);
          o.log(
            `[crosscheck] ${m} on ${key}, ${schedule}: ${agrees(r, threshold) ? "agrees" : "DIFFERS"} ` +
              `(worst ${sci(worst?.error)} in ${worst?.tensor}, loss ${sci(r.loss.error)})`,
          );
          return r;
        };
        for (const storeActivations of [false, true]) {
          const schedule = storeActivations ? "stored" : "reversible";
          try {
            const g0 = performance.now();
            const got = await o.rig.use((backend) =>
              revgnnStepGradient(backend, model, ds, init, { storeActivations, lr, seed }),
            );
            o.log(
              `[crosscheck] ${m} on ${key}, ${schedule}: revgnn step in ${seconds((performance.now() - g0) / 1000)}`,
            );
            row(schedule, got.loss, got.grads, got.floors);
          } catch (err) {
            const reason = err instanceof Error ? err.message : String(err);
            section.failures.push({ model: m, dataset: key, schedule, reason });
            o.log(`[crosscheck] ${m} on ${key}, ${schedule}: FAILED: ${reason}`);
          }
        }
        for (const [variant, schedule] of [
          ["autograd-f32", "torch-autograd-f32"],
          ["revstack-f32", "torch-revstack-f32"],
        ] as const) {
          const v = torch.variants.get(variant);
          if (v) row(schedule, v.loss, v.grads);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  section.seconds = (performance.now() - t0) / 1000;
  return section;
}
