// One line of a run's history per epoch: what the trainer reports, the progress line prints and a
// checkpoint keeps, so that a resumed run continues the same log.
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
  /** Largest relative reconstruction error of a block input, when drift is measured. */
  drift?: number;
  seconds: number;
}
