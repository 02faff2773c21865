// The example programs of the language reference: every one must parse without a diagnostic and
// survive a print/parse round trip (round-trip.test.ts).

export const paperExamples: Record<string, string> = {
  gcn_group: `// The pre-activation group function of the paper's res+ block.
layer gcn_group(h: [N, d]; p: float = 0.5) -> [N, d] {
  param W: [d, d] = glorot
  param b: [d] = zeros
  let z = dropout(relu(layer_norm(h)), p)
  return gcn(z @ W) + b
}
`,
  gcn: `layer gcn(x: [N, d]) -> [N, d] {
  let s = rsqrt(in_degree() + 1)
  return aggregate sum over edges (u -> v) with self_loops { s[u] * s[v] * x[u] }
}
`,
  gat_conv: `layer gat_conv(x: [N, d]) -> [N, d] {
  param W: [d, d] = glorot
  param a_src: [d] = glorot
  param a_dst: [d] = glorot
  param b: [d] = zeros
  let h = x @ W
  let el = dot(h, a_src)
  let er = dot(h, a_dst)
  return (aggregate softmax(score) over edges (u -> v) with self_loops {
    let score = leaky_relu(el[u] + er[v], 0.2)
    h[u]
  }) + b
}
`,
  affine_coupling: `layer affine_coupling(x1: [N, d], x2: [N, d]) reversible {
  x2 += gcn_group(x1)
  x1 *= exp(tanh(gcn_group(x2, p = 0.0)))
  x1 += gcn_group(x2)
}
`,
  RevGCN: `model RevGCN(x: [N, F], y: labels[N, K]; D: int = 128, L: int = 28, C: int = 2, p: float = 0.5) {
  param W_in: [F, D] = glorot
  param b_in: [D] = zeros
  param W_out: [D, K] = glorot
  param b_out: [K] = zeros
  var h = x @ W_in + b_in
  repeat L as blocks {
    h = reversible groups C gcn_group(p = p) (h)
  }
  let logits = dropout(relu(layer_norm(h)), p) @ W_out + b_out
  loss cross_entropy(logits, y)
}
`,
  Coupled: `model Coupled(x: [N, F], y: labels[N, K]; D: int = 64, L: int = 4) {
  param W_in: [F, D] = glorot
  var h = x @ W_in
  repeat L shared {
    let (a, b) = split(h, 2)
    (a, b) = affine_coupling(a, b)
    h = concat(a, b)
  }
  let z = fixpoint z from h with tol = 1e-5, max_iter = 50, solver = anderson {
    let t = tanh(z @ W_in)
    t + h
  }
  output z
  loss bce_with_logits(z, y)
}
`,
};

/** Every construct of the grammar at least once, with the corners the paper's examples miss. */
export const allConstructs = `/* A block comment
   over two lines. */
layer swish(x: [N, d]) -> [N, d] {
  return x / (1 + exp(-x)) // a trailing comment
}

layer halves(x: [N, 2 * d]) -> ([N, d], [N, d]) {
  let (a, b) = split(x, 2); return (a, b)
}

layer edge_mlp(x: [N, d], e: [E, d]) -> [N, d] {
  param W: [d, d] = normal(0.02)
  param s: [d] = constant(-1.5)
  return aggregate mean over edges (u -> v) { relu(x[u] @ W + e) * s }
}

layer running_center(x: [N, d]) -> [N, d] {
  state mu: [d] = zeros
  let z = x - mu
  mu = 0.9 * mu + 0.1 * mean_nodes(x)
  return z
}

layer pool(x: [N, d]) -> [N, d] {
  return aggregate max over edges (src -> dst) {
    let m = x[src]
    let n = -m; // the \`;\` ends the \`let\`: on its own, a line starting with \`-\` continues it
    -n
  }
}

layer shift(x1: [N, d], x2: [N, d]) -> [N, d] reversible {
  x1 -= x2
  x2 /= 2
}

model Multi(x: [N, F], y: multilabels[N, T]; H: int = 32, L: int = 8, bias: bool = true, lr: float = -1e-3) {
  param W: [F, H + 1] = uniform(0.1)
  param V: [(H + 1) / 2 * 2 - 1, T] = ones
  var h = 2 * x @ W
  let edges = h
  h = edges
  (h, edges) = halves(h)
  repeat L / 2 {
    h -= -h
  }
  let g = reversible groups 2 swish (h)
  let f = fixpoint z from g { tanh(z) }
  output g @ V
  loss bce_with_logits(f @ V, y)
}

model Empty() {
}
`;
