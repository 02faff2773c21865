// The line shown while the driver compiles a run's kernels. On lavapipe with an empty Mesa shader
// cache that takes minutes, which a silent terminal makes look like a hang; with a warm cache it
// takes about a second, and then nothing is printed.

/** Quiet for this long before the first line: a warm start prints nothing. */
const SHOW_AFTER_MS = 1000;
/** Without a terminal: one log line per this interval at most. */
const LOG_EVERY_MS = 10_000;

/**
 * A `GpuContext.onCompileProgress` callback writing to stderr: an updating "compiling 107
 * kernels… 40/107" on a terminal, occasional log lines otherwise; undefined with `--quiet`.
 */
export function compileProgress(
  quiet: boolean,
  stream: NodeJS.WriteStream = process.stderr,
): ((done: number, total: number) => void) | undefined {
  if (quiet) return undefined;
  let start: number | undefined;
  let shown = false;
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    start ??= now;
    const finished = done >= total;
    if (!shown && (finished || now - start < SHOW_AFTER_MS)) {
      if (finished) start = undefined;
      return;
    }
    if (!shown) {
      shown = true;
      if (!stream.isTTY)
        stream.write(
          `compiling ${total} kernels (the first run fills the shader cache; later runs start in seconds)…\n`,
        );
    }
    if (finished) {
      const secs = ((now - start) / 1000).toFixed(1);
      stream.write(`${stream.isTTY ? "\r\x1b[K" : ""}compiled ${total} kernels in ${secs} s\n`);
      start = undefined;
      shown = false;
      return;
    }
    if (stream.isTTY) {
      if (now - last < 100) return;
      stream.write(`\r\x1b[Kcompiling ${total} kernels… ${done}/${total}`);
    } else {
      if (now - last < LOG_EVERY_MS) return;
      stream.write(`compiling: ${done}/${total} kernels ready\n`);
    }
    last = now;
  };
}
