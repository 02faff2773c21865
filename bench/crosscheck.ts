// `npm run crosscheck`: one training step's gradients of RevGCN and ResGCN on Cora and on every
// degenerate graph, revgnn (both schedules, on the WebGPU adapter) against PyTorch in float64
// (bench/sections/crosscheck.ts says how). Prints the largest relative error per tensor, writes
// bench/results/crosscheck-<date>-<machine>.{json,md}, and exits 1 when a revgnn row is over the
// threshold or could not be compared (2 for a usage error). Not part of `npm test`: it needs
// python3 with torch, which it installs on Debian as root (else it says what to install).
//   node dist/bench/crosscheck.js [--models RevGCN,ResGCN] [--datasets cora,hub,…]
//                                 [--threshold 1e-4] [--lr 1048576] [--seed 0] [--out DIR]
import { join, relative } from "node:path";
import { writeFileAtomic } from "../runtime/util/atomic-write.js";
import { crosscheckMarkdown, textTable, verdictLines, agrees } from "./lib/gradcheck.js";
import { describeMachine, machineLine } from "./lib/machine.js";
import { projectRoot, resultStem } from "./lib/paths.js";
import { mkdirSync } from "node:fs";
import {
  CROSSCHECK_MODELS,
  DEFAULT_LR,
  DEFAULT_THRESHOLD,
  crosscheckSection,
} from "./sections/crosscheck.js";
import { GpuRig } from "./sections/rig.js";
import { TORCH_ADVICE, ensureTorch } from "./sections/torch.js";
import { codeVersion } from "./suite.js";
import type { CrosscheckSection, MachineInfo, ModelName } from "./types.js";
import { CROSSCHECK_DATASETS, type CrosscheckDataset } from "./config.js";

class UsageError extends Error {}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith("--")) throw new UsageError(`${name} needs a value`);
  return v;
}

function listArg<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
  const v = argValue(name);
  if (v === undefined) return undefined;
  const items = v.split(",").filter(Boolean);
  for (const x of items)
    if (!(allowed as readonly string[]).includes(x))
      throw new UsageError(`${name}: unknown "${x}" (one of ${allowed.join(", ")})`);
  return items as T[];
}

function numberArg(name: string, fallback: number, ok: (x: number) => boolean): number {
  const v = argValue(name);
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!ok(x)) throw new UsageError(`${name}: ${v} is not allowed`);
  return x;
}

export interface CrosscheckFile {
  version: 1;
  startedAt: string;
  machine: MachineInfo;
  code: string;
  crosscheck: CrosscheckSection;
}

export function crosscheckFileMarkdown(f: CrosscheckFile): string {
  return [
    `# revgnn gradients against PyTorch: ${f.startedAt.slice(0, 10)}, ${f.machine.slug}`,
    "",
    `**Machine:** ${machineLine(f.machine)}; ${f.machine.os}; Node ${f.machine.node}.  `,
    `**Code:** ${f.code}.  `,
    `**Run:** \`npm run crosscheck\`, started ${f.startedAt}, ${f.crosscheck.seconds.toFixed(0)} s.`,
    "",
    ...crosscheckMarkdown(f.crosscheck),
    "## Graphs",
    "",
    ...f.crosscheck.datasets.map(
      (d) =>
        `- **${d.key}**: ${d.description}; ${d.nodes} nodes, ${d.edges} directed edges, ` +
        `${d.features} features, ${d.classes} classes, ${d.train} training nodes`,
    ),
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  const models = listArg<ModelName>("--models", CROSSCHECK_MODELS);
  const datasets = listArg<CrosscheckDataset>("--datasets", CROSSCHECK_DATASETS);
  const threshold = numberArg("--threshold", DEFAULT_THRESHOLD, (x) => x > 0);
  // A power of two, so that lr·g is exact and the update rounds once (see gradientFromStep).
  const lr = numberArg("--lr", DEFAULT_LR, (x) => x > 0 && Number.isInteger(Math.log2(x)));
  const seed = numberArg("--seed", 0, (x) => Number.isInteger(x) && x >= 0);
  const root = projectRoot();
  const outDir = argValue("--out") ?? join(root, "bench", "results");
  const log = (m: string) => console.error(m);

  const probe = ensureTorch(log);
  if ("error" in probe) {
    console.error(`crosscheck: ${probe.error}`);
    if (!probe.error.includes("apt-get install")) console.error(TORCH_ADVICE);
    return 1;
  }
  log(`[crosscheck] ${probe.python}: torch ${probe.torch}`);
  const rig = await GpuRig.acquire();
  const started = new Date();
  let section: CrosscheckSection;
  let machine: MachineInfo;
  try {
    machine = describeMachine(rig.context.adapterInfo, {
      maxStorageBufferBindingSize: rig.context.limits.maxStorageBufferBindingSize,
      maxBufferSize: rig.context.limits.maxBufferSize,
    });
    log(`[crosscheck] ${machine.adapter}`);
    section = await crosscheckSection({
      root,
      rig,
      probe,
      ...(models ? { models } : {}),
      ...(datasets ? { datasets } : {}),
      seed,
      lr,
      threshold,
      log,
    });
  } finally {
    rig.close();
  }
  const file: CrosscheckFile = {
    version: 1,
    startedAt: started.toISOString(),
    machine,
    code: codeVersion(root),
    crosscheck: section,
  };
  mkdirSync(outDir, { recursive: true });
  const stem = join(outDir, `crosscheck-${resultStem(started, machine.slug, false)}`);
  await writeFileAtomic(`${stem}.json`, JSON.stringify(file, null, 2) + "\n");
  await writeFileAtomic(`${stem}.md`, crosscheckFileMarkdown(file));

  console.log(textTable(section));
  console.log("");
  for (const line of verdictLines(section)) console.log(line);
  for (const f of section.failures)
    console.log(
      `${f.model} on ${f.dataset}${f.schedule ? `, ${f.schedule}` : ""}: NOT COMPARED: ${f.reason}`,
    );
  console.log(`\nwritten: ${relative(process.cwd(), stem)}.{json,md}`);
  // The verdict is revgnn's: PyTorch's own float32 rows are there for scale.
  const bad = section.rows.filter(
    (r) => (r.schedule === "reversible" || r.schedule === "stored") && !agrees(r, threshold),
  );
  if (bad.length || section.failures.length) {
    console.log(
      `crosscheck: ${bad.length} revgnn row${bad.length === 1 ? "" : "s"} over ${threshold}` +
        (section.failures.length ? `, ${section.failures.length} not compared` : ""),
    );
    return 1;
  }
  console.log(`crosscheck: every revgnn gradient within ${threshold} of PyTorch float64`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`crosscheck: ${err.message}`);
      process.exit(2);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
