// The options of the autodiff transform, apart from it: the control ops' VJP rules receive them,
// and their type is part of the op definition (../ir/op-def.ts).

/** How a scan's backward gets the activations of its iterations. */
export type ScanPolicy =
  /** rebuild from the outputs with the derived inverse when the body is invertible, else store */
  | "auto"
  /** store the residuals of every iteration (plain backprop through the loop) */
  | "store";

export interface AdOptions {
  scanPolicy: ScanPolicy;
  /**
   * No backward follows (the evaluation graph): a scan's forward is the loop as it is, without
   * what its backward would read (a stored scan's stacks, a reversible scan's unchanged counts).
   */
  forwardOnly?: boolean;
}

export const defaultAdOptions: AdOptions = { scanPolicy: "auto" };
