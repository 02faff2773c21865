// `--profile` of `train` and `check`: the options that ask for it, and how its table is shown.
import { formatProfile, type KernelProfile } from "../runtime/profile/profile.js";
import { median } from "../driver/trainer.js";

/** Untimed steps before the timed ones: the first steps touch fresh buffers. */
const WARMUP_STEPS = 2;

/**
 * The trainer's profile options: `profileSteps` steps (default 3) after up to two warm-up steps,
 * fewer warm-up steps where the run has fewer than warm-up + profiled steps in all.
 */
export function profileOptions(
  o: { profile?: boolean; profileSteps?: number },
  totalSteps: number,
): { steps: number; warmup: number } | undefined {
  if (!o.profile) return undefined;
  const steps = o.profileSteps ?? 3;
  return { steps, warmup: Math.min(WARMUP_STEPS, Math.max(0, totalSteps - steps)) };
}

/** Median time of the steps that were not timed (timing adds a pass or a submit per kernel). */
function untimedStepMs(
  stepSeconds: readonly number[],
  timed: readonly number[],
): number | undefined {
  const skip = new Set(timed);
  const rest = stepSeconds.filter((_, i) => !skip.has(i));
  return rest.length > 0 ? median(rest) * 1000 : undefined;
}

export function printProfile(
  p: { table: KernelProfile; steps: number[] },
  stepSeconds: readonly number[],
): void {
  console.log(formatProfile(p.table, untimedStepMs(stepSeconds, p.steps)));
}

/** The profile for `--report`: every row, and the untimed step time it is measured against. */
export function profileJson(
  p: { table: KernelProfile; steps: number[] },
  stepSeconds: readonly number[],
): KernelProfile & { step_ms_median_untimed: number | null } {
  return { ...p.table, step_ms_median_untimed: untimedStepMs(stepSeconds, p.steps) ?? null };
}
