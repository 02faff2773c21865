// Messages between the page and the training worker.
import type { MemorySnapshot } from "../../runtime/gpu/memory.js";
import type { EpochLog } from "../../driver/run-log.js";
import type { TrainResult } from "../../driver/trainer.js";

export interface TrainRequest {
  type: "train";
  source: string;
  file: string;
  set: Record<string, string>;
  epochs: number;
  lr: number;
  seed: number;
  /** Train on the first `nodes` nodes of Cora only (the induced subgraph); all when absent. */
  nodes?: number;
}

export type ToWorker = TrainRequest | { type: "stop" } | { type: "resume" };

export type FromWorker =
  | { type: "status"; text: string }
  | { type: "adapter"; text: string }
  | { type: "compiling"; done: number; total: number }
  | {
      type: "epoch";
      log: EpochLog;
      best?: { valid: number; test: number; epoch: number };
      memory: MemorySnapshot;
      stepsPerSecond: number;
    }
  | {
      type: "finished";
      stopped: TrainResult["stopped"];
      epochs: EpochLog[];
      memory: MemorySnapshot;
      /** The last epoch trained; resuming continues after it. */
      lastEpoch: number;
    }
  | { type: "no-webgpu"; message: string }
  | { type: "error"; message: string };
