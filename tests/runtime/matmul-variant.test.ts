// The matmul variant the adapter does NOT use by default, so that one machine checks both: on
// lavapipe (default "subgroup") this runs the GPU "tiled" kernels; on a GPU with a fixed
// subgroup size it runs the "subgroup" kernels, and otherwise it is skipped.
import { describe, it } from "vitest";
import { check, oddShapes } from "./matmul-cases.js";
import { useEnv } from "./helpers.js";

const env = useEnv();

describe("matmul (other variant)", () => {
  for (const form of ["nn", "nt", "tn"] as const) {
    it(`${form}: odd shapes, a view and vec4 flag`, async (t) => {
      const variant = env.ctx.tuning.matmul.variant === "subgroup" ? "tiled" : "subgroup";
      if (variant === "subgroup" && !env.ctx.tuning.subgroupSize) t.skip();
      let seed = 100;
      for (const [m, n, k] of oddShapes) await check(env, { form, m, n, k }, { variant }, seed++);
      await check(env, { form, m: 68, n: 72, k: 20 }, { variant, vec4: true }, seed++);
      await check(
        env,
        { form, m: 9, n: 6, k: 31, lda: 40, offA: 2, ldb: 33, offB: 1, ldc: 17, offC: 3 },
        { variant },
        seed++,
      );
    });
  }
  it("split-K", async (t) => {
    const variant = env.ctx.tuning.matmul.variant === "subgroup" ? "tiled" : "subgroup";
    if (variant === "subgroup" && !env.ctx.tuning.subgroupSize) t.skip();
    await check(env, { form: "tn", m: 24, n: 20, k: 1001 }, { variant }, 120, undefined, 64);
  });
});
