// The benchmark's scale section alone, from its plans (no confirming training step): the largest
// synthetic graph at ogbn-arxiv's density that a RevGCN with L = 100, D = 128 fits, full-batch
// and with the full suite's partition counts, under this adapter's limits and this machine's
// memory budget — what `npm run bench` computes before its slow confirming step.
//   npx tsx bench/scale-only.ts [--features F]
// --features overrides the input width (arxiv's 128), to show where a wide dense x binds.
import { totalmem } from "node:os";
import { projectRoot } from "./lib/paths.js";
import { FULL } from "./config.js";
import { availableMemory } from "./lib/machine.js";
import { GpuRig } from "./sections/rig.js";
import { scaleSection } from "./sections/scale.js";
import type { Limits } from "./sections/models.js";

async function main(): Promise<void> {
  const i = process.argv.indexOf("--features");
  const features = i >= 0 ? Number(process.argv[i + 1]) : undefined;
  const rig = await GpuRig.acquire();
  // The suite's limits (bench/suite.ts): the adapter's binding size, a share of this RAM.
  const limits: Limits = {
    kernels: rig.kernelOptions,
    maxBindingBytes: rig.context.limits.maxStorageBufferBindingSize,
    memoryBudgetBytes: Math.min(
      FULL.memoryFraction * totalmem(),
      Math.max(availableMemory() - 2 ** 30, 0.25 * totalmem()),
    ),
  };
  const config = { ...FULL, scale: { ...FULL.scale, confirm: false } };
  const section = await scaleSection({
    root: projectRoot(),
    config,
    limits,
    depthPoints: [],
    log: (m) => console.log(m),
    ...(features ? { features } : {}),
  });
  for (const c of section.largest)
    console.log(
      `largest P=${c.partitions} ${c.scope}: ${c.nodes} nodes, ${c.edges} edges, plan ${c.planned?.total} bytes`,
    );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
