"""PyTorch replica of examples/revgcnii.gnn on Cora (public split), for searching its design fast.

Plain autograd: revgnn's reversible backward computes the same gradients up to float32 drift
(`revgnn check` measures it), so accuracy found here carries over. It reproduces the language's
semantics: x's edges symmetrised, Â = D̃^-1/2 (A + I) D̃^-1/2, inverted dropout, Glorot-uniform
matrices, zero biases, LayerNorm gain 1 / bias 0, Adam with L2 weight decay in the gradient (the
blocks' W by wd_conv, everything else by wd), 200 epochs, and the test accuracy of the first
epoch with the best validation accuracy (driver/trainer.ts). Its random numbers are torch's, so a
seed here is not the same run as `revgnn train --seed`; compare means over seeds.

DEFAULT is the model of examples/revgcnii.gnn; the other keys are the variants that were tried
(bench/torch/revgcnii-findings.md). OLD is the earlier version of the example (LayerNorm
pre-activation, summed updates).

Usage (from the repository root, a python3 with torch):
  python3 bench/torch/revgcnii_replica.py '{"L": 64}' 0 1 2     # config overrides, then seeds
  python3 bench/torch/revgcnii_replica.py OLD 0 1 2
"""
import gzip
import json
import math
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

warnings.filterwarnings("ignore")  # torch's notes on sparse tensors being in beta

torch.set_num_threads(1)
DATA = "data/cora"


def csv(path, dtype):
    with gzip.open(path, "rt") as f:
        return np.loadtxt(f, delimiter=",", dtype=dtype, ndmin=2)


def load():
    e = csv(f"{DATA}/raw/edge.csv.gz", np.int64)
    x = torch.tensor(csv(f"{DATA}/raw/node-feat.csv.gz", np.float32))
    y = torch.tensor(csv(f"{DATA}/raw/node-label.csv.gz", np.int64)[:, 0])
    n = x.shape[0]
    # Symmetrised, as runtime/data/ogb.ts does (the file holds one direction of each edge).
    pairs = np.unique(np.concatenate([e, e[:, ::-1]]), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    src, dst = pairs[:, 0], pairs[:, 1]
    deg = np.bincount(dst, minlength=n) + 1.0  # in-degree + self loop
    rows = np.concatenate([dst, np.arange(n)])
    cols = np.concatenate([src, np.arange(n)])
    vals = 1 / np.sqrt(deg[rows] * deg[cols])
    a = torch.sparse_coo_tensor(torch.tensor(np.stack([rows, cols])), torch.tensor(vals, dtype=torch.float32), (n, n)).coalesce().to_sparse_csr()
    split = {k: torch.tensor(csv(f"{DATA}/split/public/{k}.csv.gz", np.int64)[:, 0]) for k in ("train", "valid", "test")}
    return a, x.to_sparse().coalesce(), y, split


DEFAULT = dict(
    D=64, L=16, p_in=0.6, p=0.6, alpha=0.1, lam=0.5, wd_conv=0.01, wd=5e-4, wd_in=None, lr=0.01, epochs=200,
    ln=False,         # LayerNorm in the blocks' pre-activation (preact)
    pre_relu=False,   # relu in the blocks' pre-activation
    out_ln=False,     # LayerNorm in the read-out pre-activation
    out_relu=False,
    keep=1.0,         # x1 *= keep before x1 += scale * f  (momentum/EMA form)
    scale=1.0,        # update scale; "invL" for 1/L
    beta_mode="gcnii",  # "gcnii": beta_l = log(lam/l+1); "const": beta = lam
    cond="halves",    # "halves": c1, c2 = split(h0); "dropped": dropout(h0)
    init="h0",        # state starts at h0, or "zero"
    readout="h",      # "h": preact(h); "mean": preact(mean of halves)  (W_out [D/2,K])
    gate=False,       # learnable per-block scalar gate (ReZero) on each update, init 0
    final_relu=True,  # relu at the end of the group function
    c=3.0,            # the example's `fade`: keep = exp(-c / L), scale = 1 - keep (overrides both)
)
OLD = dict(ln=True, pre_relu=True, out_ln=True, out_relu=True, c=None)


def glorot(*shape):
    fi, fo = shape[-2], shape[-1]
    b = math.sqrt(6 / (fi + fo))
    return (torch.rand(*shape) * 2 - 1) * b


class Model(torch.nn.Module):
    def __init__(s, c, F_, K):
        super().__init__()
        D, L, d = c["D"], c["L"], c["D"] // 2
        s.c = c
        P = torch.nn.Parameter
        s.W_in, s.b_in = P(glorot(F_, D)), P(torch.zeros(D))
        dout = D if c["readout"] == "h" else d
        s.W_out, s.b_out = P(glorot(dout, K)), P(torch.zeros(K))
        s.W = P(glorot(L, 2, d, d))
        s.g = P(torch.ones(L, 2, d)); s.bt = P(torch.zeros(L, 2, d))
        s.og = P(torch.ones(dout)); s.ob = P(torch.zeros(dout))
        s.gate = P(torch.zeros(L, 2))

    def groups(s):
        conv = [s.W]
        other = [p for n, p in s.named_parameters() if n not in ("W", "W_in")]
        return conv, other

    def pre(s, z, g, b, ln, relu):
        if ln:
            z = F.layer_norm(z, z.shape[-1:], g, b, 1e-5)
        if relu:
            z = F.relu(z)
        return F.dropout(z, s.c["p"], s.training)

    def forward(s, a, x):
        c = s.c
        L, d = c["L"], c["D"] // 2
        # x is sparse (1.3 % non-zeros): dropout on its stored values, then a sparse product.
        vals = F.dropout(x.values(), c["p_in"], s.training)
        xd = torch.sparse_coo_tensor(x.indices(), vals, x.shape)
        h0 = F.relu(torch.sparse.mm(xd, s.W_in) + s.b_in)
        cc = h0 if c["cond"] == "halves" else F.dropout(h0, c["p"], s.training)
        c1, c2 = cc[:, :d], cc[:, d:]
        h = h0 if c["init"] == "h0" else torch.zeros_like(h0)
        x1, x2 = h[:, :d], h[:, d:]
        scale = 1 / L if c["scale"] == "invL" else c["scale"]
        keep = c["keep"]
        if c["c"] is not None:
            keep = math.exp(-c["c"] / L)
            scale = 1 - keep

        def f(z, cond, l, k):
            beta = math.log(c["lam"] / (l + 1) + 1) if c["beta_mode"] == "gcnii" else c["lam"]
            u = s.pre(z, s.g[l, k], s.bt[l, k], c["ln"], c["pre_relu"])
            sm = (a @ u) * (1 - c["alpha"]) + cond * c["alpha"]
            out = sm * (1 - beta) + (sm @ s.W[l, k]) * beta
            out = F.relu(out) if c["final_relu"] else out
            if c["gate"]:
                out = out * s.gate[l, k]
            return out * scale

        for l in range(L):
            x1 = x1 * keep + f(x2, c1, l, 0)
            x2 = x2 * keep + f(x1, c2, l, 1)
        h = torch.cat([x1, x2], 1) if c["readout"] == "h" else (x1 + x2) / 2
        return s.pre(h, s.og, s.ob, c["out_ln"], c["out_relu"]) @ s.W_out + s.b_out


def run(c, seed, data):
    a, x, y, sp = data
    torch.manual_seed(seed)
    m = Model(c, x.shape[1], int(y.max()) + 1)
    conv, other = m.groups()
    wd_in = c["wd"] if c["wd_in"] is None else c["wd_in"]
    opt = torch.optim.Adam([
        dict(params=conv, weight_decay=c["wd_conv"]),
        dict(params=[m.W_in], weight_decay=wd_in),
        dict(params=other, weight_decay=c["wd"]),
    ], lr=c["lr"])
    best = (-1, 0, 0)
    for ep in range(c["epochs"]):
        m.train(); opt.zero_grad()
        out = m(a, x)
        F.cross_entropy(out[sp["train"]], y[sp["train"]]).backward()
        opt.step()
        m.eval()
        with torch.no_grad():
            pred = m(a, x).argmax(1)
        va = (pred[sp["valid"]] == y[sp["valid"]]).float().mean().item()
        te = (pred[sp["test"]] == y[sp["test"]]).float().mean().item()
        if va > best[0]:
            best = (va, te, ep + 1)
    return best


if __name__ == "__main__":
    arg = sys.argv[1] if len(sys.argv) > 1 else "{}"
    cfg = dict(DEFAULT, **(OLD if arg == "OLD" else json.loads(arg)))
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    data = load()
    t = time.time()
    res = []
    for s in seeds:
        res.append(run(cfg, s, data))
        print(f"  seed {s}: test {res[-1][1] * 100:.1f} at epoch {res[-1][2]}", flush=True)
    tests = [r[1] * 100 for r in res]
    print(json.dumps({k: v for k, v in cfg.items() if v != DEFAULT[k]}),
          f"test {np.mean(tests):.2f} (min {min(tests):.1f} max {max(tests):.1f}) per seed",
          [f"{t_:.1f}@{r[2]}" for t_, r in zip(tests, res)], f"{time.time() - t:.0f}s", flush=True)
