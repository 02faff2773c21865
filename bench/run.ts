// `npm run bench`: the full benchmark suite (memory and time against depth on Cora and an
// arxiv-sized graph, PyTorch, kernel efficiency, compile time, scale) in one invocation; writes
// bench/results/<date>-<machine>.{json,md} and the plots next to them. See bench/README.md.
//   node dist/bench/run.js [--quick] [--out DIR]
import { FULL, QUICK } from "./config.js";
import { runSuite } from "./suite.js";

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes("--quick");
runSuite({ config: quick ? QUICK : FULL, outDir: argValue("--out") }).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
