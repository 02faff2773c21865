// Builds the playground into a static folder (default playground/dist) that any static host
// serves: the page and the training worker bundled by esbuild, the examples, and Cora as one
// safetensors file. `--serve [port]` then serves it locally and rebundles on reload.
//
// The browser build differs from Node's in one rule: a module `X.ts` with a sibling `X.browser.ts`
// resolves to the sibling (runtime/platform.ts, compiler/source-files.ts: file I/O and settings).
// Device acquisition needs no rule: the worker imports runtime/gpu/device-browser.ts itself.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  copyFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { loadDataset } from "../runtime/data/load.js";
import { encodeDatasetBundle } from "./src/dataset-bundle.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

/** `X.ts` → `X.browser.ts` where that file exists. */
const browserSiblings: esbuild.Plugin = {
  name: "browser-siblings",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const ts = resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
      const sibling = ts.replace(/\.ts$/, ".browser.ts");
      if (existsSync(sibling)) return { path: sibling };
      return existsSync(ts) ? { path: ts } : undefined;
    });
  },
};

/** `virtual:examples`: every examples/*.gnn file, by name. */
const examplesModule: esbuild.Plugin = {
  name: "examples",
  setup(build) {
    build.onResolve({ filter: /^virtual:examples$/ }, () => ({
      path: "examples",
      namespace: "virtual",
    }));
    build.onLoad({ filter: /.*/, namespace: "virtual" }, () => {
      const dir = join(root, "examples");
      const examples = readdirSync(dir)
        .filter((f) => f.endsWith(".gnn"))
        .sort()
        .map((f) => ({ file: `examples/${f}`, text: readFileSync(join(dir, f), "utf8") }));
      return {
        contents: `export default ${JSON.stringify(examples)};`,
        loader: "js",
        watchFiles: examples.map((e) => join(root, e.file)),
      };
    });
  },
};

export function buildOptions(out: string): esbuild.BuildOptions {
  return {
    entryPoints: [join(here, "src", "main.ts"), join(here, "src", "train-worker.ts")],
    outdir: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: true,
    minify: true,
    loader: { ".gnn": "text" },
    plugins: [browserSiblings, examplesModule],
    logLevel: "warning",
  };
}

/** The static files around the bundles: the page, its style sheet and the dataset. */
export async function writeStaticFiles(out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(here, f), join(out, f));
  const bundle = join(out, "cora.safetensors");
  if (!existsSync(bundle)) {
    const cora = await loadDataset(join(root, "data", "cora"));
    const chunks = encodeDatasetBundle(cora);
    writeFileSync(bundle, Buffer.concat(chunks));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outArg = args.indexOf("--out");
  const out = resolve(outArg >= 0 ? args[outArg + 1]! : join(here, "dist"));
  await writeStaticFiles(out);
  const serveArg = args.indexOf("--serve");
  if (serveArg < 0) {
    const t0 = performance.now();
    await esbuild.build(buildOptions(out));
    console.log(`playground built in ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return;
  }
  const port = Number(args[serveArg + 1] ?? 8000) || 8000;
  const ctx = await esbuild.context(buildOptions(out));
  const { hosts, port: actual } = await ctx.serve({ servedir: out, port });
  console.log(`playground: http://${hosts[0] === "0.0.0.0" ? "localhost" : hosts[0]}:${actual}/`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
