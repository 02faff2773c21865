// Scale: the largest synthetic graph (at ogbn-arxiv's edge density) that a RevGCN with L = 100,
// D = 128 trains on within this machine's memory and the adapter's buffer limits, full-batch and
// with random node partitions. Candidates come from the static plan (a bisection over the node
// count); the largest full-batch one is then confirmed with a real training step.
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import type { SuiteConfig } from "../config.js";
import { Budget, predictStepSeconds } from "../lib/budget.js";
import { bytes, count, seconds } from "../lib/format.js";
import type { DepthPoint, ScaleCandidate, ScaleSection } from "../types.js";
import { ARXIV } from "./datasets.js";
import { benchModel, planVerdict, type Limits } from "./models.js";
import type { GpuRig } from "./rig.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

export interface ScaleContext {
  root: string;
  config: SuiteConfig;
  limits: Limits;
  rig?: GpuRig;
  /** The depth section's points: RevGCN step times on the arxiv-sized graph predict ours. */
  depthPoints: DepthPoint[];
  log: (msg: string) => void;
  /** The input width (default ogbn-arxiv's 128): wider dense features bind sooner. */
  features?: number;
}

/** Undirected edges per node of ogbn-arxiv; the synthetic graph has exactly twice as many directed. */
const DENSITY = ARXIV.undirectedEdges / ARXIV.nodes;
const undirected = (n: number) => Math.round(n * DENSITY);
const MAX_NODES = 1 << 27;

export async function scaleSection(c: ScaleContext): Promise<ScaleSection> {
  const { L, D, partitions } = c.config.scale;
  const budget = new Budget(c.config.sectionSeconds.scale);
  const optimizer = defaultOptimizer("adam", c.config.weightDecay);
  const model = benchModel(c.root, "RevGCN", L, D);
  const candidates: ScaleCandidate[] = [];
  const largest: ScaleCandidate[] = [];

  const tryN = async (n: number, p: number, scope: ScaleCandidate["scope"]) => {
    const dims = { N: n, E: 2 * undirected(n), F: c.features ?? ARXIV.features, K: ARXIV.classes };
    // "part": one partition's step and evaluation, planned as a full-batch run on a graph of a
    // part's expected size (N/P nodes, E/P² edges, as planMemory's own partition estimate).
    const planDims =
      scope === "part" ? { ...dims, N: Math.ceil(n / p), E: Math.ceil(dims.E / (p * p)) } : dims;
    const v = await planVerdict(model, planDims, optimizer, c.limits, scope === "trainer" ? p : 1);
    const cand: ScaleCandidate = {
      nodes: n,
      edges: dims.E,
      partitions: p,
      scope,
      fits: v.fits,
      ...(v.fits ? {} : { reason: v.reason }),
      ...(v.plan ? { planned: v.plan } : {}),
    };
    candidates.push(cand);
    return cand;
  };

  const search = async (p: number, scope: ScaleCandidate["scope"]) => {
    // Doubling from arxiv's size, then bisection to 0.05 % of the node count.
    let lo: ScaleCandidate | undefined;
    let hi: ScaleCandidate | undefined;
    for (let n = ARXIV.nodes; n <= MAX_NODES; n *= 2) {
      const cand = await tryN(n, p, scope);
      if (cand.fits) lo = cand;
      else {
        hi = cand;
        break;
      }
    }
    if (!lo) {
      for (let n = ARXIV.nodes >> 1; n >= 1024 && !lo; n >>= 1) {
        const cand = await tryN(n, p, scope);
        if (cand.fits) lo = cand;
        else hi = cand;
      }
    }
    while (lo && hi && hi.nodes - lo.nodes > Math.max(64, lo.nodes / 2000)) {
      const cand = await tryN(Math.floor((lo.nodes + hi.nodes) / 2), p, scope);
      if (cand.fits) lo = cand;
      else hi = cand;
    }
    if (lo) largest.push(lo);
    c.log(
      `[scale] P=${p} ${scope}: largest ${lo ? `${count(lo.nodes)} nodes, ${count(lo.edges)} edges (plan ${bytes(lo.planned?.total)})` : "none"}` +
        (hi
          ? `; ${count(hi.nodes)} nodes: ${hi.reason}`
          : `; no limit below ${count(MAX_NODES)} nodes`),
    );
  };

  await search(1, "trainer");
  for (const p of partitions) {
    await search(p, "trainer");
    await search(p, "part");
  }

  const section: ScaleSection = {
    L,
    D,
    density: `${(2 * DENSITY).toFixed(2)} directed edges per node (ogbn-arxiv's)`,
    memoryBudgetBytes: c.limits.memoryBudgetBytes,
    candidates,
    largest,
  };
  const full = largest.find((x) => x.partitions === 1);
  if (c.config.scale.confirm && full && c.rig) section.confirmed = await confirm(c, full, budget);
  return section;
}

/** A real RevGCN step on the largest full-batch graph, at the deepest L the budget allows. */
async function confirm(
  c: ScaleContext,
  full: ScaleCandidate,
  budget: Budget,
): Promise<NonNullable<ScaleSection["confirmed"]>> {
  const { L: target, D } = c.config.scale;
  const timed = c.depthPoints
    .filter((p) => p.dataset === "arxiv" && p.model === "RevGCN" && p.status === "measured")
    .map((p) => ({ L: p.L, seconds: p.step?.median ?? p.firstStepSeconds! }));
  const sizeRatio = (full.nodes + full.edges) / (ARXIV.nodes + 2 * ARXIV.undirectedEdges);
  // A step, an evaluation (about half a step) and the step after it that closes the memory
  // window (rig.ts), plus building the graph on the host.
  const cost = (L: number) => {
    const s = predictStepSeconds(timed, L);
    return s === undefined ? undefined : 2.5 * s * sizeRatio + 20;
  };
  const L = [target, 10, 3, 1].find((l) => l <= target && (cost(l) ?? Infinity) <= budget.left());
  const base = { nodes: full.nodes, edges: full.edges };
  if (L === undefined) {
    const why =
      timed.length === 0
        ? "no measured RevGCN step on the arxiv-sized graph to predict its cost"
        : `even L = 1 is predicted to take ${seconds(cost(1))}, ${seconds(budget.left())} left`;
    c.log(`[scale] confirmation skipped: ${why}`);
    return { ...base, L: target, status: "skipped", reason: why };
  }
  const optimizer = defaultOptimizer("adam", c.config.weightDecay);
  const model = benchModel(c.root, "RevGCN", L, D);
  const ds = syntheticDataset(
    full.nodes,
    full.edges / 2,
    ARXIV.features,
    ARXIV.classes,
    c.config.seed,
  );
  const dims = { N: ds.graph.numNodes, E: ds.graph.numEdges, F: ARXIV.features, K: ARXIV.classes };
  const v = await planVerdict(model, dims, optimizer, c.limits);
  try {
    const r = await c.rig!.measure(model, ds, {
      optimizer,
      seed: c.config.seed,
      lr: c.config.lr,
      reps: 0,
      initEval: false,
    });
    c.log(
      `[scale] confirmed: ${count(full.nodes)} nodes, L=${L}: step ${seconds(r.firstStepSeconds)}, ` +
        `peak ${bytes(r.memory.total)} (plan ${bytes(v.plan?.total)})`,
    );
    return {
      ...base,
      L,
      status: "measured",
      memory: r.memory,
      ...(v.plan ? { plan: v.plan } : {}),
      stepSeconds: r.firstStepSeconds,
      loss: r.losses[0]!,
    };
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
    c.log(`[scale] confirmation FAILED: ${reason}`);
    return { ...base, L, status: "failed", reason };
  }
}
