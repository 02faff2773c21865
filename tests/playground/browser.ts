// The playground as a visitor meets it: built into a temporary folder, served over http from
// localhost (WebGPU needs a secure context), opened in the system Chromium through playwright-core.
// Headless Chromium's WebGPU runs on SwiftShader here, so no GPU is needed.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import * as esbuild from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { buildOptions, writeStaticFiles } from "../../playground/build.js";

export const CHROMIUM = "/usr/bin/chromium";
/** `--enable-unsafe-webgpu` is all headless Chromium needs for navigator.gpu on Linux. */
export const CHROMIUM_ARGS = ["--headless=new", "--enable-unsafe-webgpu"];

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".map": "application/json",
};

export async function buildPlayground(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "revgnn-playground-"));
  await writeStaticFiles(out);
  await esbuild.build({ ...buildOptions(out), minify: false, sourcemap: false });
  return out;
}

/** A static file server for `dir` on a free port of localhost. */
export async function serve(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = join(dir, path === "/" ? "index.html" : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://localhost:${(server.address() as AddressInfo).port}/`, server };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no ${CHROMIUM}: run \`node scripts/setup.mjs --playground\` (as root it installs Debian's chromium)`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** `revgnn …` from source, as tests/helpers/cli.ts runs it, without blocking this process. */
export function runCliAsync(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, err }));
  });
}
