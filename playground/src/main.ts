// The playground page: the editor, the compiler's panels (recomputed as you type), the memory plan
// and training on Cora in a worker. The document title says "ready" once the program compiled and
// "error" when it did not: a stable hook for automated checks.
import examples from "virtual:examples";
import { MEMORY_CATEGORIES, type MemorySnapshot } from "../../runtime/gpu/memory.js";
import type { CategoryPlan } from "../../driver/plan.js";
import { NO_WEBGPU_ADVICE } from "../../runtime/gpu/device-browser.js";
import { createEditor, replaceText, showDiagnostics } from "./editor.js";
import { computePanels, memoryPlan, type Kernel, type PanelResult } from "./panels.js";
import { LivePlot, type PlotRow } from "./plot.js";
import type { FromWorker, ToWorker } from "./protocol.js";

const DEFAULT_EXAMPLE = "examples/revgcn.gnn";
const TITLE = "revgnn playground";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const pct = (x: number | undefined) => (x === undefined ? "—" : `${(100 * x).toFixed(1)} %`);

let file = DEFAULT_EXAMPLE;
let kernels: Kernel[] = [];
let manifest = "";
let last: PanelResult | undefined;

function overrides(): Record<string, string> {
  const l = $<HTMLInputElement>("plan-L").value.trim();
  return l ? { L: l } : {};
}

function target(): "cpu" | "gpu" {
  return $<HTMLSelectElement>("target").value === "gpu" ? "gpu" : "cpu";
}

function compileNow(source: string): void {
  const r = computePanels({ source, file, set: overrides(), target: target() });
  last = r;
  if (!r.ok) {
    document.title = `${TITLE} — error`;
    $("diagnostics").textContent = r.text;
    $("diagnostics").className = "diagnostics error";
    $("compile-time").textContent = `checked in ${r.ms.compile.toFixed(1)} ms`;
    showDiagnostics(editor, file, r.diagnostics);
    return;
  }
  showDiagnostics(editor, file, []);
  $("diagnostics").textContent = `${r.model.name}: no errors — ${invertibility(r)}`;
  $("diagnostics").className = "diagnostics ok";
  $("panel-ir").textContent = r.ir;
  $("panel-backward").textContent = r.backward;
  $("panel-inverse").textContent = r.inverse;
  kernels = r.kernels;
  manifest = r.manifest;
  fillKernelMenu();
  $("compile-time").textContent =
    `compiled in ${r.ms.compile.toFixed(1)} ms, ${r.kernels.length} kernels in ${r.ms.kernels.toFixed(1)} ms`;
  document.title = `${TITLE} — ready`;
  void updatePlan();
}

function invertibility(r: PanelResult & { ok: true }): string {
  const n = (r.inverse.match(/^\/\/ inverse of /gm) ?? []).length;
  return n ? `${n} reversible loop${n > 1 ? "s" : ""}, inverse derived` : "no reversible loop";
}

function fillKernelMenu(): void {
  const menu = $<HTMLSelectElement>("kernel-menu");
  const chosen = menu.value;
  menu.replaceChildren(
    ...["manifest.json", ...kernels.map((k) => k.file)].map((f) => new Option(f, f)),
  );
  if ([...menu.options].some((o) => o.value === chosen)) menu.value = chosen;
  showKernel();
}

function showKernel(): void {
  const f = $<HTMLSelectElement>("kernel-menu").value;
  $("panel-wgsl").textContent =
    f === "manifest.json" ? manifest : (kernels.find((k) => k.file === f)?.code ?? "");
}

let planGeneration = 0;
async function updatePlan(): Promise<void> {
  if (!last?.ok) return;
  const mine = ++planGeneration;
  const sizes = {
    nodes: num("plan-N"),
    edges: num("plan-E"),
    features: num("plan-F"),
    classes: num("plan-K"),
  };
  try {
    const plan = await memoryPlan(last.model, sizes, target());
    if (mine === planGeneration) renderPlan(plan);
  } catch (err) {
    if (mine === planGeneration)
      $("plan-table").textContent = err instanceof Error ? err.message : String(err);
  }
}

function renderPlan(plan: CategoryPlan): void {
  const rows = [...MEMORY_CATEGORIES, "total" as const].map(
    (c) => `<tr><td>${c}</td><td>${mib(plan[c])}</td></tr>`,
  );
  $("plan-table").innerHTML =
    `<table><tr><th>category</th><th>peak</th></tr>${rows.join("")}</table>`;
}

function renderMemory(m: MemorySnapshot): void {
  const rows = MEMORY_CATEGORIES.map(
    (c) => `<tr><td>${c}</td><td>${mib(m.live[c])}</td><td>${mib(m.peak[c])}</td></tr>`,
  );
  $("train-memory").innerHTML =
    `<table><tr><th>category</th><th>live</th><th>peak</th></tr>${rows.join("")}` +
    `<tr><td>total</td><td>${mib(m.liveTotal)}</td><td>${mib(m.peakTotal)}</td></tr></table>`;
}

// ---- training ------------------------------------------------------------------------------

const worker = new Worker(new URL("./train-worker.js", import.meta.url), { type: "module" });
// Made at a run's first epoch (LivePlot needs rows).
let plot: LivePlot | undefined;
/** Every epoch's log, for tests and for the page's own table: window.revgnnLosses. */
const losses: number[] = [];
(window as unknown as { revgnnLosses: number[] }).revgnnLosses = losses;

function send(m: ToWorker): void {
  worker.postMessage(m);
}

function setRunning(running: boolean, canResume = false): void {
  $<HTMLButtonElement>("train").disabled = running;
  $<HTMLButtonElement>("stop").disabled = !running;
  $<HTMLButtonElement>("resume").disabled = running || !canResume;
}

function noWebGpu(message: string): void {
  $("no-webgpu").textContent = message;
  $("no-webgpu").hidden = false;
  $<HTMLButtonElement>("train").disabled = true;
}

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case "status":
      $("train-status").textContent = m.text;
      break;
    case "adapter":
      $("adapter").textContent = `WebGPU adapter: ${m.text}`;
      break;
    case "compiling":
      $("train-status").textContent = `compiling kernels ${m.done}/${m.total}`;
      break;
    case "epoch": {
      const l = m.log;
      losses[l.epoch - 1] = l.loss;
      const rows: PlotRow[] = [
        { epoch: l.epoch, series: "train loss", value: l.loss },
        ...(l.valid !== undefined
          ? [{ epoch: l.epoch, series: "valid accuracy" as const, value: l.valid }]
          : []),
      ];
      if (plot) plot.add(rows);
      else plot = new LivePlot($("plot"), rows);
      $("train-status").textContent =
        `epoch ${l.epoch}: loss ${l.loss.toFixed(4)}, train ${pct(l.train)}, valid ${pct(l.valid)}, ` +
        `test ${pct(l.test)} — ${m.stepsPerSecond.toFixed(2)} steps/s` +
        (m.best
          ? ` — best valid ${pct(m.best.valid)} (test ${pct(m.best.test)}) at ${m.best.epoch}`
          : "");
      renderMemory(m.memory);
      break;
    }
    case "finished":
      setRunning(false, m.stopped === "stopped");
      renderMemory(m.memory);
      $("train-status").textContent += ` — ${m.stopped} after epoch ${m.lastEpoch}`;
      document.body.dataset.training = m.stopped;
      break;
    case "no-webgpu":
      setRunning(false);
      noWebGpu(m.message);
      document.body.dataset.training = "no-webgpu";
      break;
    case "error":
      setRunning(false);
      $("train-status").textContent = m.message;
      document.body.dataset.training = "error";
      break;
  }
};

function startTraining(): void {
  losses.length = 0;
  plot = undefined;
  setRunning(true);
  document.body.dataset.training = "running";
  const nodes = num("train-nodes");
  send({
    type: "train",
    source: editor.state.doc.toString(),
    file,
    set: overrides(),
    epochs: num("train-epochs"),
    lr: num("train-lr"),
    seed: num("train-seed"),
    nodes: nodes > 0 ? nodes : undefined,
  });
}

// ---- wiring --------------------------------------------------------------------------------

let timer: ReturnType<typeof setTimeout> | undefined;
const editor = createEditor($("editor"), "", (text) => {
  clearTimeout(timer);
  timer = setTimeout(() => compileNow(text), 150);
});

function loadExample(name: string): void {
  const ex = examples.find((e) => e.file === name) ?? examples[0]!;
  file = ex.file;
  $<HTMLSelectElement>("examples").value = ex.file;
  replaceText(editor, ex.text);
  clearTimeout(timer);
  compileNow(ex.text);
}

$<HTMLSelectElement>("examples").append(...examples.map((e) => new Option(e.file, e.file)));
$("examples").addEventListener("change", (e) => loadExample((e.target as HTMLSelectElement).value));
$("kernel-menu").addEventListener("change", showKernel);
for (const id of ["plan-N", "plan-E", "plan-F", "plan-K"])
  $(id).addEventListener("change", () => void updatePlan());
for (const id of ["plan-L", "target"])
  $(id).addEventListener("change", () => compileNow(editor.state.doc.toString()));
for (const tab of document.querySelectorAll<HTMLButtonElement>("[data-tab]"))
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll<HTMLElement>("[data-tab]"))
      t.classList.toggle("active", t === tab);
    for (const p of document.querySelectorAll<HTMLElement>(".panel"))
      p.hidden = p.id !== `tab-${tab.dataset.tab}`;
  });
$("train").addEventListener("click", startTraining);
$("stop").addEventListener("click", () => send({ type: "stop" }));
$("resume").addEventListener("click", () => {
  setRunning(true);
  document.body.dataset.training = "running";
  send({ type: "resume" });
});

setRunning(false);
if (!navigator.gpu) noWebGpu(`This browser has no WebGPU. ${NO_WEBGPU_ADVICE}`);
loadExample(new URLSearchParams(location.search).get("example") ?? DEFAULT_EXAMPLE);
