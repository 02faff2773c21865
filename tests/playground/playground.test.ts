// The playground in a real browser: the default example compiles and its IR is the CLI's, a broken
// program shows the checker's located error in the page and the title, and training Cora on the
// browser's WebGPU — stopped after its first epoch and resumed — gives the Node runtime's losses.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileFile, compileSource, expectModel } from "../../compiler/compile.js";
import { printGraph } from "../../compiler/ir/print.js";
import { formatDiagnostics } from "../../grammar/diagnostics.js";
import { runCliAsync } from "./browser.js";
import { buildPlayground, launchChromium, serve } from "./browser.js";

const EXAMPLE = "examples/revgcn.gnn";
// Enough epochs that a stop clicked after the first lands before the last: with faster kernels,
// 3 epochs on SwiftShader ended before the click reached the page.
const EPOCHS = 8;

let out: string;
let server: Server;
let browser: Browser;
let page: Page;
let url: string;

beforeAll(async () => {
  out = await buildPlayground();
  ({ server, url } = await serve(out));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

const title = () => page.title();
const waitTitle = (word: string) =>
  page.waitForFunction((w) => document.title.includes(w), word, { timeout: 60_000 });

describe("playground", () => {
  it("compiles the default example: the title says ready and the IR panel is the CLI's --emit ir", async () => {
    await page.goto(url);
    await waitTitle("ready");
    expect(await title()).toContain("ready");
    // What `revgnn compile --emit ir` prints (cli/compile-cmd.ts), computed in this process.
    const cli = printGraph(expectModel(compileFile(EXAMPLE)).train.graph);
    expect(await page.textContent("#panel-ir")).toBe(cli);
  });

  it("a broken program: the located error with its hint, an underline, and error in the title", async () => {
    const broken = [
      "model M(x: [N, F], y: labels[N, K]) {",
      "  param W: [F, K] = glorot",
      "  let logits = x @ Wx",
      "  loss cross_entropy(logits, y)",
      "}",
      "",
    ].join("\n");
    await page.click(".cm-content");
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText(broken);
    await waitTitle("error");
    const expected = compileSource(broken, EXAMPLE);
    expect(expected.diagnostics.length).toBeGreaterThan(0);
    const text = await page.textContent("#diagnostics");
    expect(text).toBe(formatDiagnostics(expected.diagnostics, expected.sources));
    expect(text).toMatch(/^examples\/revgcn\.gnn:3:\d+: error: .*Wx/);
    expect(await page.locator(".cm-lintRange-error").count()).toBeGreaterThan(0);
  });

  it("without WebGPU: the page names what to enable, and the compiler still works", async () => {
    const bare = await browser.newPage();
    await bare.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined }),
    );
    await bare.goto(url);
    await bare.waitForFunction(() => document.title.includes("ready"), null, { timeout: 60_000 });
    expect(await bare.isVisible("#no-webgpu")).toBe(true);
    expect(await bare.textContent("#no-webgpu")).toContain("chrome://flags/#enable-unsafe-webgpu");
    expect(await bare.isDisabled("#train")).toBe(true);
    await bare.close();
  });

  it("trains Cora on WebGPU, stopped and resumed, with the Node runtime's losses (seed 0, 1e-4)", async () => {
    await page.reload();
    await waitTitle("ready");
    await page.click("[data-tab=train]");
    await page.fill("#train-epochs", String(EPOCHS));
    await page.fill("#train-seed", "0");
    // The Node runtime's run of the same command (`revgnn train`), alongside the browser's.
    const report = join(tmpdir(), `revgnn-playground-${process.pid}.json`);
    const nodeRun = runCliAsync([
      "train",
      EXAMPLE,
      "--data",
      "data/cora",
      "--epochs",
      String(EPOCHS),
      "--seed",
      "0",
      "--quiet",
      "--report",
      report,
    ]);
    await page.click("#train");
    // Stop as soon as the first epoch is in: the run saves its checkpoint and ends as "stopped".
    await page.waitForFunction(() => (window as any).revgnnLosses.length >= 1, null, {
      timeout: 240_000,
    });
    await page.click("#stop");
    await page.waitForFunction(() => document.body.dataset.training !== "running", null, {
      timeout: 120_000,
    });
    expect(await page.evaluate(() => document.body.dataset.training)).toBe("stopped");
    const stoppedAfter = await page.evaluate(() => (window as any).revgnnLosses.length);
    expect(stoppedAfter).toBeLessThan(EPOCHS);
    await page.click("#resume");
    await page.waitForFunction(() => document.body.dataset.training !== "running", null, {
      timeout: 240_000,
    });
    expect(await page.evaluate(() => document.body.dataset.training)).toBe("completed");
    const browserLosses: number[] = await page.evaluate(() => (window as any).revgnnLosses);
    console.log(`playground losses (stopped after ${stoppedAfter}): ${browserLosses.join(", ")}`);
    // The README's screenshot is refreshed on request only: a test run leaves tracked files alone.
    const shot = process.env.REVGNN_UPDATE_SCREENSHOT
      ? "docs/playground.png"
      : "out/playground.png";
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });

    const node = await nodeRun;
    expect(node.code, node.err).toBe(0);
    const nodeLosses = (
      JSON.parse(readFileSync(report, "utf8")) as { log: { loss: number }[] }
    ).log.map((e) => e.loss);
    rmSync(report, { force: true });
    console.log(`revgnn train losses: ${nodeLosses.join(", ")}`);
    expect(browserLosses).toHaveLength(EPOCHS);
    for (let i = 0; i < EPOCHS; i++) expect(browserLosses[i]).toBeCloseTo(nodeLosses[i]!, 4);
    expect(Math.max(...browserLosses.map((l, i) => Math.abs(l - nodeLosses[i]!)))).toBeLessThan(
      1e-4,
    );
  }, 480_000);
});
