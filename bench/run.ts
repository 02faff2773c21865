// `npm run bench`: the full benchmark suite (memory and time against depth on Cora and an
// arxiv-sized graph, PyTorch, kernel efficiency, compile time, scale) in one invocation; writes
// bench/results/<date>-<machine>.{json,md} and the plots next to them. See bench/README.md.
//   node dist/bench/run.js [--quick] [--out DIR]
//   node dist/bench/run.js --render FILE.json   (rewrite a result set's summary and plots)
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { FULL, QUICK } from "./config.js";
import { writeResultSet } from "./report/write.js";
import { runSuite } from "./suite.js";
import type { SuiteResult } from "./types.js";

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const render = argValue("--render");
  if (render) {
    // Rendering is a pure function of the JSON: no number is measured or changed here.
    const result = JSON.parse(readFileSync(render, "utf8")) as SuiteResult;
    const files = await writeResultSet(dirname(render), basename(render, ".json"), result);
    console.error(`rewrote ${files.slice(1).join(", ")}`);
    return;
  }
  const quick = process.argv.includes("--quick");
  await runSuite({ config: quick ? QUICK : FULL, outDir: argValue("--out") });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
