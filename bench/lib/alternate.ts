// Paired step timing: two (or more) trainers stepped in alternation, so that the machine's drift
// (this 2-core VM's speed wanders by 1.5x over tens of minutes, with nothing else running) falls
// on both sides of a ratio alike. Timing one side's repetitions and then the other's, minutes
// apart, put that drift straight into Rev/Res and revgnn/PyTorch.
import type { Spread } from "../types.js";
import { summarize } from "./stats.js";

/** Something that trains one step at a time: a revgnn session, or the PyTorch twin's process. */
export interface Stepper {
  /** One training step; its wall time in seconds and its loss. */
  step(): Promise<{ seconds: number; loss: number }>;
}

export interface AlternateResult {
  step: Spread;
  /** Losses of the timed steps, in order. */
  losses: number[];
}

/**
 * One untimed warm-up step each, then `reps` timed rounds. Round r steps the trainers in order
 * when r is even and in reverse when odd (A B, B A, A B, …): neither side always runs right after
 * the other, so what one leaves behind (caches, a core's frequency) does not fall on one side.
 */
export async function alternateSteps(
  steppers: readonly Stepper[],
  reps: number,
): Promise<AlternateResult[]> {
  for (const s of steppers) await s.step();
  const times = steppers.map(() => [] as number[]);
  const losses = steppers.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    const order = steppers.map((_, i) => (r % 2 === 0 ? i : steppers.length - 1 - i));
    for (const i of order) {
      const { seconds, loss } = await steppers[i]!.step();
      times[i]!.push(seconds);
      losses[i]!.push(loss);
    }
  }
  return steppers.map((_, i) => ({ step: summarize(times[i]!), losses: losses[i]! }));
}
