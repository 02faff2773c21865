// `revgnn bench [--quick] [--out DIR]`: the benchmark suite of bench/ (see bench/README.md).
// --quick runs a reduced suite in a few minutes: Cora only, a cold and three warm starts of the
// CLI, shallow real steps, plans for the deep configurations, no kernel benchmark. Results go to DIR (default bench/results).
import { resolve } from "node:path";
import { FULL, QUICK } from "../bench/config.js";
import { runSuite } from "../bench/suite.js";

export async function benchCommand(opts: { quick: boolean; out?: string }): Promise<number> {
  const { result, files } = await runSuite({
    config: opts.quick ? QUICK : FULL,
    ...(opts.out ? { outDir: resolve(opts.out) } : {}),
  });
  for (const f of files) if (f.endsWith(".md")) console.log(f);
  return result.notes.some((n) => n.startsWith("The suite stopped early")) ? 1 : 0;
}
