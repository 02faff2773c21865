// Checkpoints: safetensors files (written atomically) holding every parameter under its dotted
// name (`W_in`, `blocks.group1.gcn_conv.W` with a leading [L] axis for stacked blocks), the
// optimizer state as `optimizer.<state>.<name>` (Adam's `optimizer.m.W`, `optimizer.v.W`;
// the state names are the optimizer's, compiler/optimizers.ts), and in the metadata what a
// bit-for-bit resumption needs: epoch, optimizer step, seed, the log and the best result so far.
import type { CompiledModel } from "../compiler/compile.js";
import { optimizerNamed, type OptimizerConfig } from "../compiler/optimizers.js";
import {
  loadSafetensors,
  saveSafetensors,
  type TensorInput,
} from "../runtime/checkpoint/safetensors.js";
import type { EpochLog } from "./run-log.js";

export const CHECKPOINT_FORMAT = "revgnn-checkpoint-1";

export interface CheckpointState {
  params: Float32Array[];
  /** [first moments…, second moments…] (empty for SGD) */
  states: Float32Array[];
  /**
   * The model's `state` tensors (running statistics), stored under their own names; absent
   * where the caller keeps none (then a model with states saves their initial values).
   */
  modelStates?: Float32Array[];
  epoch: number;
  step: number;
  log: EpochLog[];
  best?: { valid: number; test: number; epoch: number };
  seed: number;
  data: string;
}

export class CheckpointError extends Error {}

/** The number of NaN and of ±Infinity values in `data`, and the index of the first of either. */
export function countNonFinite(data: ArrayLike<number>): {
  nan: number;
  inf: number;
  first: number;
} {
  let nan = 0;
  let inf = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isFinite(v)) continue;
    if (Number.isNaN(v)) nan++;
    else inf++;
    if (first < 0) first = i;
  }
  return { nan, inf, first };
}

/** "3 NaN and 1 infinite values of 64 (the first at index 5)", or undefined when all are finite. */
export function describeNonFinite(data: ArrayLike<number>): string | undefined {
  const { nan, inf, first } = countNonFinite(data);
  if (nan + inf === 0) return undefined;
  const parts = [nan ? `${nan} NaN` : "", inf ? `${inf} infinite` : ""].filter(Boolean);
  return `${parts.join(" and ")} value${nan + inf === 1 ? "" : "s"} of ${data.length} (the first at index ${first})`;
}

/**
 * Names of the optimizer-state tensors, in the order the step keeps them: every parameter's first
 * state ("optimizer.m.<param>" for Adam), then every second one ("optimizer.v.<param>"), ….
 */
export function stateTensorNames(
  params: readonly { name: string }[],
  optimizer: OptimizerConfig,
): string[] {
  return optimizerNamed(optimizer.kind).states.flatMap((state) =>
    params.map((p) => `optimizer.${state}.${p.name}`),
  );
}

export async function saveCheckpoint(
  path: string,
  model: CompiledModel,
  optimizer: OptimizerConfig,
  s: CheckpointState,
  shapes?: number[][],
): Promise<void> {
  const params = model.train.params;
  // A checkpoint is the run's last good state: writing non-finite weights over it would lose that
  // state. The trainer stops before it gets here; this is the guard for every other caller.
  const stateNames = stateTensorNames(params, optimizer);
  const modelStates = s.modelStates ?? [];
  const names = [
    ...params.map((p) => p.name),
    ...stateNames,
    ...model.train.states.map((m) => m.name),
  ];
  [...s.params, ...s.states, ...modelStates].forEach((data, i) => {
    const bad = describeNonFinite(data);
    if (bad)
      throw new CheckpointError(
        `${path}: not written: tensor ${names[i]} holds ${bad}; the file keeps its previous contents`,
      );
  });
  const tensors = new Map<string, TensorInput>();
  const shapeOf = (i: number, data: Float32Array) =>
    shapes?.[i] ?? inferShape(params[i]!.shape, data.length);
  s.params.forEach((data, i) => tensors.set(params[i]!.name, { shape: shapeOf(i, data), data }));
  s.states.forEach((data, k) =>
    tensors.set(stateNames[k]!, { shape: shapeOf(k % params.length, data), data }),
  );
  modelStates.forEach((data, k) => {
    const spec = model.train.states[k]!;
    tensors.set(spec.name, { shape: inferShape(spec.shape, data.length), data });
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
  const json = <T>(key: string, fallback: string): T => {
    try {
      return JSON.parse(meta[key] ?? fallback) as T;
    } catch {
      throw new CheckpointError(`${path}: metadata ${key} is not valid JSON; the file is damaged`);
    }
  };
  // Counters must be what a run writes: non-negative integers (a negative or fractional epoch
  // would make resumption train the wrong epochs, or none, without a word).
  const counter = (key: "epoch" | "step" | "seed"): number => {
    const text = meta[key];
    const v = Number(text);
    if (text === undefined || text.trim() === "" || !Number.isSafeInteger(v) || v < 0) {
      throw new CheckpointError(
        `${path}: metadata ${key} is ${text === undefined ? "missing" : JSON.stringify(text)}, not a non-negative integer; the file is damaged or not written by revgnn`,
      );
    }
    return v;
  };
  const epoch = counter("epoch");
  const step = counter("step");
  const seed = counter("seed");
  const log = json<EpochLog[]>("log", "[]");
  if (
    !Array.isArray(log) ||
    log.some(
      (e) =>
        typeof e !== "object" ||
        e === null ||
        !Number.isSafeInteger(e.epoch) ||
        e.epoch < 1 ||
        e.epoch > epoch ||
        typeof e.loss !== "number",
    )
  ) {
    throw new CheckpointError(
      `${path}: metadata log is not a list of epochs 1..${epoch} with their losses; the file is damaged`,
    );
  }
  const best = json<CheckpointState["best"] | null>("best", "null");
  if (
    best !== null &&
    (typeof best !== "object" ||
      // JSON writes a NaN metric (no valid nodes with a positive label, say) as null.
      !(typeof best.valid === "number" || best.valid === null) ||
      !(typeof best.test === "number" || best.test === null) ||
      !Number.isSafeInteger(best.epoch) ||
      best.epoch < 1 ||
      best.epoch > epoch)
  ) {
    throw new CheckpointError(
      `${path}: metadata best is not {valid, test, epoch} of an epoch up to ${epoch}; the file is damaged`,
    );
  }
  const savedOpt = json<OptimizerConfig>("optimizer", "{}");
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
    const data = Float32Array.from(t.data as ArrayLike<number>);
    const bad = describeNonFinite(data);
    if (bad) {
      throw new CheckpointError(
        `${path}: tensor ${name} holds ${bad}; this checkpoint comes from a diverged run — resume from an earlier one, with a smaller --lr`,
      );
    }
    return data;
  };
  const params = model.train.params.map((p, i) => get(p.name, shapes[i]!));
  const states = stateTensorNames(model.train.params, optimizer).map((name, k) =>
    get(name, shapes[k % shapes.length]!),
  );
  // Model states: shapes from the declaration, the stored size fixing a symbolic one.
  const modelStates = model.train.states.map((spec) => {
    const stored = file.tensors.get(spec.name);
    const elements = stored ? stored.shape.reduce((a, b) => a * b, 1) : 0;
    return get(spec.name, inferShape(spec.shape, elements));
  });
  return {
    params,
    states,
    modelStates,
    epoch,
    step,
    log,
    best: best ?? undefined,
    seed,
    data: meta.data ?? "",
  };
}
