// The PyTorch twin (bench/torch/revgnn_torch.py --serve) as a Stepper: a child process that
// loads the graph, takes its first step, then takes one step per "step" line on its stdin and
// answers each with one JSON line; end of input makes it print its summary line and exit.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import type { Stepper } from "./alternate.js";

export class TorchTwin implements Stepper {
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private ended = false;
  private stderr = "";
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** How long one step (or the start-up) may take before the twin is given up on. */
    private readonly timeoutMs: number,
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
    child.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) =>
      child.on("close", (code) => {
        this.ended = true;
        this.waiting?.(null);
        this.waiting = null;
        resolve(code);
      }),
    );
  }

  static start(
    python: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    timeoutMs: number,
  ): TorchTwin {
    return new TorchTwin(spawn(python, args, { env, stdio: ["pipe", "pipe", "pipe"] }), timeoutMs);
  }

  async step(): Promise<{ seconds: number; loss: number }> {
    this.child.stdin.write("step\n");
    const r = JSON.parse(await this.nextLine()) as { seconds: number; loss: number };
    return { seconds: r.seconds, loss: r.loss };
  }

  /** Ends the session: the twin's summary line (first step, memory, losses) parsed. */
  async finish<T>(): Promise<T> {
    this.child.stdin.end();
    const line = await this.nextLine();
    await this.exited;
    return JSON.parse(line) as T;
  }

  /** Kills the process if it is still running (after a failure on either side). */
  kill(): void {
    if (!this.ended) this.child.kill("SIGKILL");
  }

  private nextLine(): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.failure("exited"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.kill();
        reject(this.failure(`no answer within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.waiting = (line) => {
        clearTimeout(timer);
        if (line === null) reject(this.failure("exited"));
        else resolve(line);
      };
    });
  }

  private failure(what: string): Error {
    const last = this.stderr.trim().split("\n").slice(-3).join(" | ");
    return new Error(`the PyTorch twin ${what}${last ? `: ${last}` : ""}`);
  }
}
