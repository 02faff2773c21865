// One line of a run's history per epoch: what the trainer reports, the progress line prints and a
// checkpoint keeps, so that a resumed run continues the same log.
/** Fixpoint (DEQ) solves of one kind in a step: the most iterations and the largest residual. */
export interface FixpointSummary {
  solves: number;
  iterations: number;
  residual: number;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  /** Metrics on train/valid/test nodes (accuracy or mean ROC-AUC) when evaluated this epoch. */
  train?: number;
  valid?: number;
  test?: number;
  evalLoss?: number;
  /** Loss on the validation nodes (no dropout). */
  validLoss?: number;
  /** Largest relative reconstruction error of a block input, when drift was sampled. */
  drift?: number;
  /** Relative error of the rebuilt stack input (the first block, rebuilt last), when sampled. */
  driftInput?: number;
  /**
   * Fixpoint (DEQ) solves: the forward's and the backward's (implicit adjoint) of the epoch's last
   * training step, and the evaluation's forward.
   */
  fixpoints?: { forward?: FixpointSummary; backward?: FixpointSummary; eval?: FixpointSummary };
  seconds: number;
}
