// Checkpoints: safetensors files (written atomically) holding every parameter under its dotted
// name (`W_in`, `blocks.group1.gcn_conv.W` with a leading [L] axis for stacked blocks), the
// optimizer state as `optimizer.m.<name>` / `optimizer.v.<name>`, and in the metadata what a
// bit-for-bit resumption needs: epoch, optimizer step, seed, the log and the best result so far.
import type { CompiledModel } from "../../compiler/compile.js";
import type { OptimizerConfig } from "../../compiler/training.js";
import { loadSafetensors, saveSafetensors, type TensorInput } from "../checkpoint/safetensors.js";
import type { EpochLog } from "./trainer.js";

export const CHECKPOINT_FORMAT = "revgnn-checkpoint-1";

export interface CheckpointState {
  params: Float32Array[];
  /** [first moments…, second moments…] (empty for SGD) */
  states: Float32Array[];
  epoch: number;
  step: number;
  log: EpochLog[];
  best?: { valid: number; test: number; epoch: number };
  seed: number;
  data: string;
}

export class CheckpointError extends Error {}

const STATE_NAMES = ["m", "v"];

export async function saveCheckpoint(
  path: string,
  model: CompiledModel,
  optimizer: OptimizerConfig,
  s: CheckpointState,
  shapes?: number[][],
): Promise<void> {
  const params = model.train.params;
  const tensors = new Map<string, TensorInput>();
  const shapeOf = (i: number, data: Float32Array) =>
    shapes?.[i] ?? inferShape(params[i]!.shape, data.length);
  s.params.forEach((data, i) => tensors.set(params[i]!.name, { shape: shapeOf(i, data), data }));
  s.states.forEach((data, k) => {
    const i = k % params.length;
    tensors.set(`optimizer.${STATE_NAMES[Math.floor(k / params.length)]}.${params[i]!.name}`, {
      shape: shapeOf(i, data),
      data,
    });
  });
  await saveSafetensors(path, tensors, {
    format: CHECKPOINT_FORMAT,
    model: model.name,
    source: model.source.file,
    hyperparameters: JSON.stringify(model.train.hypers),
    optimizer: JSON.stringify(optimizer),
    epoch: String(s.epoch),
    step: String(s.step),
    seed: String(s.seed),
    data: s.data,
    best: JSON.stringify(s.best ?? null),
    log: JSON.stringify(s.log),
  });
}

/** Shapes are symbolic in the model; the stored data fixes the one unknown (if any). */
function inferShape(shape: readonly (number | string)[], elements: number): number[] {
  const known = shape.filter((d): d is number => typeof d === "number").reduce((a, b) => a * b, 1);
  const unknown = shape.filter((d) => typeof d !== "number").length;
  return shape.map((d) =>
    typeof d === "number"
      ? d
      : unknown === 1
        ? elements / known
        : Math.round(Math.pow(elements / known, 1 / unknown)),
  );
}

export function loadCheckpoint(
  path: string,
  model: CompiledModel,
  shapes: number[][],
  statesPerParam: number,
  optimizer: OptimizerConfig,
): CheckpointState {
  const file = loadSafetensors(path);
  const meta = file.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `${path}: not a revgnn checkpoint (format ${meta.format ?? "missing"})`,
    );
  }
  if (meta.model !== model.name) {
    throw new CheckpointError(`${path}: checkpoint of model ${meta.model}, not ${model.name}`);
  }
  if (meta.hyperparameters !== JSON.stringify(model.train.hypers)) {
    throw new CheckpointError(
      `${path}: saved with hyperparameters ${meta.hyperparameters}, now ${JSON.stringify(model.train.hypers)}`,
    );
  }
  const savedOpt = JSON.parse(meta.optimizer ?? "{}") as OptimizerConfig;
  if (savedOpt.kind !== optimizer.kind) {
    throw new CheckpointError(
      `${path}: saved with optimizer ${savedOpt.kind}, resuming with ${optimizer.kind}`,
    );
  }
  const get = (name: string, shape: number[]) => {
    const t = file.tensors.get(name);
    if (!t) throw new CheckpointError(`${path}: tensor ${name} is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        `${path}: tensor ${name} is [${t.shape.join(", ")}], the model needs [${shape.join(", ")}]`,
      );
    }
    return Float32Array.from(t.data as ArrayLike<number>);
  };
  const params = model.train.params.map((p, i) => get(p.name, shapes[i]!));
  const states: Float32Array[] = [];
  for (let k = 0; k < statesPerParam; k++) {
    model.train.params.forEach((p, i) =>
      states.push(get(`optimizer.${STATE_NAMES[k]}.${p.name}`, shapes[i]!)),
    );
  }
  return {
    params,
    states,
    epoch: Number(meta.epoch),
    step: Number(meta.step),
    log: JSON.parse(meta.log ?? "[]") as EpochLog[],
    best: (JSON.parse(meta.best ?? "null") as CheckpointState["best"]) ?? undefined,
    seed: Number(meta.seed),
    data: meta.data ?? "",
  };
}
