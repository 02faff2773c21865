// A small reversible model with batch_norm in its group functions, for the batch-norm tests.

// A reversible GCN whose group function normalises with batch_norm: L blocks of C = 2 groups,
// each group with its own running mean and variance per block.
export const BN_SOURCE = `
layer bn_group(h: [N, d]; p: float = 0.0) -> [N, d] {
  param W: [d, d] = glorot
  let z = dropout(relu(batch_norm(h)), p)
  return gcn(z @ W)
}

model RevBN(x: [N, F], y: labels[N, K]; D: int = 6, L: int = 3, p: float = 0.0) {
  param W_in: [F, D] = glorot
  param W_out: [D, K] = glorot
  var h = x @ W_in
  repeat L as blocks {
    h = reversible groups 2 bn_group(p = p) (h)
  }
  loss cross_entropy(h @ W_out, y)
}
`;
