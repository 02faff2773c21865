#!/usr/bin/env node
// One-shot project set-up, run before `npm start`, `npm test` and the benchmarks:
//   1. install the npm dependencies when node_modules is missing or older than the lock file;
//   2. make sure Dawn finds a WebGPU adapter; on a Debian machine without a GPU, as root, install
//      Mesa's lavapipe (Mesa >= 24; bookworm's own 22.3 is rejected by Dawn), else say what to install;
//   3. compile the TypeScript sources to dist/ when any source is newer than the last build;
//   4. with --playground (the playground's tests): make sure a Chromium runs, installing Debian's
//      `chromium` package as root when it is missing (`npm start` does not need it).
// Only Node built-ins are used here, because this script runs before `npm ci`.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { isBuildFresh, stampBuild } from "./build-stamp.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const playground = process.argv.includes("--playground");
const log = (msg) => {
  if (!quiet) console.error(`[setup] ${msg}`);
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? "pipe" : "inherit", ...opts });
  if (r.status !== 0) {
    const out = r.stderr ? r.stderr.toString() : "";
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status})\n${out}`);
  }
  return r;
}

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

// ---- 1. npm dependencies -------------------------------------------------------------------
function ensureDependencies() {
  const marker = join(root, "node_modules", ".package-lock.json");
  if (existsSync(marker) && mtime(marker) >= mtime(join(root, "package-lock.json"))) return;
  log("installing npm dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

// ---- 2. a WebGPU adapter ---------------------------------------------------------------------
// The probe runs in a child process: a missing Vulkan loader makes Dawn print warnings, and a
// broken driver can abort the process, neither of which should take this script down.
function probeAdapter() {
  const code = `
    import { create, globals } from "webgpu";
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const a = await gpu.requestAdapter();
    if (!a) { console.log("NONE"); process.exit(0); }
    const i = a.info;
    console.log("OK " + [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(" / "));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  const line = (r.stdout || "").trim().split("\n").pop() || "";
  if (line.startsWith("OK")) return { ok: true, description: line.slice(3) };
  return { ok: false, detail: ((r.stderr || "") + (r.stdout || "")).trim() };
}

function debianCodename() {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const id = /^ID=(.*)$/m.exec(text)?.[1]?.replace(/"/g, "");
    const codename = /^VERSION_CODENAME=(.*)$/m.exec(text)?.[1]?.replace(/"/g, "");
    return id === "debian" ? codename : undefined;
  } catch {
    return undefined;
  }
}

const installAdvice = `No WebGPU adapter was found. Dawn (npm package "webgpu") needs a Vulkan, Metal or D3D12 driver.
  Debian 12 (bookworm), as root:
    echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list
    apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1
    (Mesa >= 24 is needed: bookworm's own 22.3 lavapipe is rejected by Dawn with
     "shaderUniform*ArrayDynamicIndexing required")
  Debian 13 / Ubuntu 24.04 or newer:  apt-get install -y mesa-vulkan-drivers libvulkan1
  Fedora:  dnf install mesa-vulkan-drivers vulkan-loader
  With an NVIDIA or AMD GPU: install the vendor's Vulkan driver (nvidia-driver / mesa radv) and libvulkan1.
  macOS: Metal is built in; Windows: D3D12 is built in (update the GPU driver if no adapter appears).`;

function installLavapipe() {
  const codename = debianCodename();
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (process.platform !== "linux" || !codename || !isRoot || !existsSync("/usr/bin/apt-get")) {
    return false;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const args = ["install", "-y", "-q", "--no-install-recommends"];
  if (codename === "bookworm") {
    const list = "/etc/apt/sources.list.d/revgnn-bookworm-backports.list";
    const already =
      spawnSync("sh", [
        "-c",
        "grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/",
      ]).status === 0;
    if (!already) writeFileSync(list, "deb http://deb.debian.org/debian bookworm-backports main\n");
    args.push("-t", "bookworm-backports");
  }
  log(`installing Mesa's lavapipe Vulkan driver for Debian ${codename} (apt-get)`);
  run("apt-get", ["update", "-q"], { env });
  run("apt-get", [...args, "mesa-vulkan-drivers", "libvulkan1"], { env });
  return true;
}

function ensureAdapter() {
  if (process.env.REVGNN_SKIP_GPU_SETUP === "1") return;
  let probe = probeAdapter();
  if (probe.ok) {
    log(`WebGPU adapter: ${probe.description}`);
    return;
  }
  if (installLavapipe()) probe = probeAdapter();
  if (probe.ok) {
    log(`WebGPU adapter: ${probe.description}`);
    return;
  }
  console.error(installAdvice);
  if (probe.detail) console.error(`\nDawn said:\n${probe.detail}`);
  process.exit(1);
}

// ---- 3. TypeScript build ---------------------------------------------------------------------
function ensureBuild() {
  if (isBuildFresh(root)) return;
  log("compiling TypeScript (tsc)");
  run(process.execPath, [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    "tsconfig.json",
  ]);
  stampBuild(root);
}

// ---- 4. a browser for the playground's tests -------------------------------------------------
// tests/playground drive the system Chromium (no browser download); its headless WebGPU runs on
// SwiftShader, so no GPU is needed.
const CHROMIUM = "/usr/bin/chromium";

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (
    process.platform === "linux" &&
    debianCodename() &&
    isRoot &&
    existsSync("/usr/bin/apt-get")
  ) {
    log("installing Chromium for the playground's browser tests (apt-get install chromium)");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    run("apt-get", ["update", "-q"], { env });
    run("apt-get", ["install", "-y", "-q", "chromium"], { env });
    if (existsSync(CHROMIUM)) return;
  }
  console.error(
    `The playground's tests need Chromium at ${CHROMIUM}: on Debian, as root, apt-get install -y chromium`,
  );
  process.exit(1);
}

try {
  ensureDependencies();
  ensureAdapter();
  ensureBuild();
  if (playground) ensureChromium();
} catch (err) {
  console.error(`[setup] ${err.message}`);
  process.exit(1);
}
