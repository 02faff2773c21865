// What a full `npm run bench` and a `revgnn bench --quick` run: the same sections, with smaller
// graphs, depths and budgets for the quick one. Budgets are wall-clock seconds on the machine
// that runs the suite; every real measurement predicts its cost and fits itself into them.
import { DEGENERATE_CASES } from "../runtime/data/degenerate.js";
import type { DatasetKey } from "./sections/datasets.js";
import type { StartConfig } from "./sections/startup.js";

/** The cross-check's graphs: Cora, Cora with empty feature rows, and every degenerate case. */
export const CROSSCHECK_DATASETS = ["cora", "cora-empty-rows", ...DEGENERATE_CASES] as const;
export type CrosscheckDataset = (typeof CROSSCHECK_DATASETS)[number];

export interface SuiteConfig {
  quick: boolean;
  seed: number;
  lr: number;
  weightDecay: number;
  datasets: { key: DatasetKey; D: number }[];
  /** Depths of the memory/time sweep. */
  depths: number[];
  /** Longest predicted single training step that is run for real (else the plan stands in). */
  stepBudgetSeconds: number;
  /** Time for the timed repetitions of one configuration, and their bounds. */
  repSeconds: number;
  minReps: number;
  maxReps: number;
  /** Share of this machine's RAM a configuration's plan may take to be run (and to "fit"). */
  memoryFraction: number;
  sectionSeconds: { depth: number; torch: number; kernels: number; scale: number };
  torch: { enabled: boolean; depths: Partial<Record<DatasetKey, number[]>>; reps: number };
  kernels: { enabled: boolean; runs: number };
  /** The gradient cross-check against PyTorch (bench/sections/crosscheck.ts) and its graphs. */
  crosscheck: { enabled: boolean; datasets: CrosscheckDataset[] };
  compile: { depths: number[]; reps: number };
  scale: {
    enabled: boolean;
    L: number;
    D: number;
    partitions: number[];
    /** Confirm the largest full-batch graph with a real step (at the deepest L the budget allows). */
    confirm: boolean;
  };
  /** Cold and warm start of the CLI's default run, as child processes (bench/sections/startup.ts). */
  start: StartConfig;
}

export const FULL: SuiteConfig = {
  quick: false,
  seed: 1,
  lr: 0.005,
  weightDecay: 5e-4,
  datasets: [
    { key: "cora", D: 64 },
    { key: "arxiv", D: 128 },
  ],
  depths: [1, 10, 100, 1000],
  stepBudgetSeconds: 600,
  repSeconds: 60,
  minReps: 3,
  maxReps: 7,
  memoryFraction: 0.7,
  sectionSeconds: { depth: 1500, torch: 720, kernels: 360, scale: 240 },
  torch: { enabled: true, depths: { cora: [1, 10, 100], arxiv: [1, 10] }, reps: 3 },
  kernels: { enabled: true, runs: 3 },
  crosscheck: { enabled: true, datasets: [...CROSSCHECK_DATASETS] },
  compile: { depths: [1, 10, 100, 1000, 10000], reps: 5 },
  scale: { enabled: true, L: 100, D: 128, partitions: [4, 16], confirm: true },
  start: { enabled: true, warmReps: 5, defaultRun: true, timeoutSeconds: 600 },
};

export const QUICK: SuiteConfig = {
  ...FULL,
  quick: true,
  datasets: [{ key: "cora", D: 64 }],
  depths: [1, 3, 10, 100, 1000],
  stepBudgetSeconds: 8,
  repSeconds: 6,
  minReps: 2,
  maxReps: 3,
  sectionSeconds: { depth: 60, torch: 20, kernels: 0, scale: 5 },
  torch: { enabled: true, depths: { cora: [1] }, reps: 2 },
  kernels: { enabled: false, runs: 1 },
  // The 40-node graph with every degeneracy at once: seconds, where Cora's kernels without
  // dropout would take minutes to compile on lavapipe.
  crosscheck: { enabled: true, datasets: ["all"] },
  compile: { depths: [1, 10, 100, 1000], reps: 1 },
  scale: { enabled: true, L: 100, D: 128, partitions: [4], confirm: false },
  // The 200-epoch default run takes a minute or more: full suite only.
  start: { enabled: true, warmReps: 3, defaultRun: false, timeoutSeconds: 300 },
};
