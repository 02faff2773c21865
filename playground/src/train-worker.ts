// The training worker: the runtime's own trainer on the browser's WebGPU, off the page's thread so
// that the page stays responsive. Only the device (navigator.gpu) and the files (in memory: the
// checkpoint a stop writes is what a resume reads) differ from `revgnn train`.
import { compileSource } from "../../compiler/compile.js";
import { formatDiagnostics } from "../../grammar/diagnostics.js";
import { subsetDataset } from "../../runtime/data/subset.js";
import type { Dataset } from "../../runtime/data/types.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { acquireBrowserGpu, NoWebGpuError } from "../../runtime/gpu/device-browser.js";
import { train, type Progress } from "../../driver/trainer.js";
import { decodeDatasetBundle } from "./dataset-bundle.js";
import type { FromWorker, ToWorker, TrainRequest } from "./protocol.js";
import { defaultOptimizer, defaultWeightDecay } from "../../compiler/optimizers.js";

/** The in-memory file the run saves after every evaluated epoch and a resume starts from. */
const CHECKPOINT = "playground-run.safetensors";

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

let backend: GpuBackend | undefined;
let cora: Dataset | undefined;
let stopRequested = false;
let running = false;
/** The run a resume continues: its request and the epoch its checkpoint holds. */
let lastRun: TrainRequest | undefined;

async function device(): Promise<GpuBackend> {
  if (!backend) {
    const ctx = await acquireBrowserGpu();
    ctx.onCompileProgress = (done, total) => post({ type: "compiling", done, total });
    post({ type: "adapter", text: ctx.adapterInfo.text });
    backend = new GpuBackend(ctx);
  }
  return backend;
}

async function dataset(nodes: number | undefined): Promise<Dataset> {
  if (!cora) {
    const response = await fetch(new URL("./cora.safetensors", self.location.href));
    if (!response.ok) throw new Error(`cora.safetensors: HTTP ${response.status}`);
    cora = decodeDatasetBundle(new Uint8Array(await response.arrayBuffer()));
  }
  if (!nodes || nodes >= cora.graph.numNodes) return cora;
  return subsetDataset(
    cora,
    Uint32Array.from({ length: nodes }, (_, i) => i),
  ).dataset;
}

function progress(): Progress {
  const stamps: number[] = [];
  return {
    start: () => post({ type: "status", text: "training" }),
    epoch(log, best) {
      // Steps per second over the last five epochs of wall-clock time (one step per epoch).
      stamps.push(performance.now());
      const window = stamps.slice(-6);
      const seconds = (window[window.length - 1]! - window[0]!) / 1000;
      const stepsPerSecond = window.length > 1 ? (window.length - 1) / seconds : 1 / log.seconds;
      post({ type: "epoch", log, best, memory: backend!.memory.snapshot(), stepsPerSecond });
    },
    message: (text) => post({ type: "status", text }),
    stop: () => undefined,
  };
}

async function run(req: TrainRequest, resume: boolean): Promise<void> {
  const compiled = compileSource(req.source, req.file, { set: req.set });
  if (!compiled.model) {
    post({ type: "error", message: formatDiagnostics(compiled.diagnostics, compiled.sources) });
    return;
  }
  post({ type: "status", text: "loading Cora" });
  const ds = await dataset(req.nodes);
  post({ type: "status", text: "starting WebGPU" });
  const b = await device();
  // Peaks per run; the backend (and its compiled pipelines) lives as long as the page.
  b.memory.resetPeak();
  stopRequested = false;
  const result = await train(
    b,
    compiled.model,
    ds,
    {
      epochs: req.epochs,
      lr: req.lr,
      optimizer: defaultOptimizer("adam", defaultWeightDecay("adam")),
      seed: req.seed,
      partitions: 1,
      evalEvery: 1,
      storeActivations: false,
      save: CHECKPOINT,
      resume: resume ? CHECKPOINT : undefined,
      shouldStop: () => stopRequested,
    },
    progress(),
  );
  lastRun = req;
  post({
    type: "finished",
    stopped: result.stopped,
    epochs: result.epochs,
    memory: result.memory,
    lastEpoch: result.epochs[result.epochs.length - 1]?.epoch ?? 0,
  });
}

async function guarded(task: () => Promise<void>): Promise<void> {
  if (running) return post({ type: "status", text: "already training" });
  running = true;
  try {
    await task();
  } catch (err) {
    if (err instanceof NoWebGpuError) post({ type: "no-webgpu", message: err.message });
    else post({ type: "error", message: err instanceof Error ? err.message : String(err) });
  } finally {
    running = false;
  }
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.type === "stop") stopRequested = true;
  else if (m.type === "train") void guarded(() => run(m, false));
  else if (m.type === "resume") {
    const req = lastRun;
    if (!req) post({ type: "status", text: "nothing to resume" });
    else void guarded(() => run(req, true));
  }
};
