#!/usr/bin/env python3
"""RevGCN and ResGCN in plain PyTorch, for `npm run bench`'s "against PyTorch" section.

The models are those of shared/spec/models.md, on the graph, features, labels and *initial
parameter values* that the TypeScript harness exports (bench/sections/torch.ts), so that the
evaluation loss at initialisation can be compared number for number with revgnn's before any
timing is trusted.

  - GCN normalisation: A_hat = D^-1/2 (A + I) D^-1/2 as one sparse CSR matrix (symmetric, so the
    backward of A_hat @ x is A_hat @ g: a tiny autograd Function uses the CSR product both ways
    instead of letting torch transpose a COO matrix every step).
  - ResGCN: ordinary autograd; every block's activations are kept for the backward pass.
  - RevGCN: the paper's grouped reversible block. One autograd Function runs the L blocks without
    recording a graph and keeps only the last output. Its backward walks the blocks from the last
    to the first and, like the official implementation (memcnn's InvertibleCheckpointFunction),
    first inverts the block to rebuild its input, then re-runs the block's forward on that input
    with autograd on and differentiates it. Dropout masks are regenerated from a per-(step, block,
    group) seed, so the rebuild and the re-forward use the forward pass's masks.

Usage: revgnn_torch.py <data-dir> <config.json> (timing), revgnn_torch.py --self-check (RevStack's
gradients against plain autograd), or revgnn_torch.py --gradients <data-dir> <config.json> (one
step's parameter gradients for `npm run crosscheck`, in float64 and float32, through plain autograd
and through RevStack; see gradients()). The last line of stdout is one JSON object.

Memory: PyTorch on the CPU has no allocator statistics, so this measures the process's resident
set: the peak RSS during the first training step (Linux VmHWM, reset through /proc/self/clear_refs
just before the step) minus the RSS just before it. That delta holds everything the step
allocates: saved activations, gradients, Adam's two moment buffers (created lazily at the first
step) and temporaries. `static_bytes` adds the tensors alive before the step (graph, features,
labels, parameters), counted from their sizes.
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


def read_status():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                fields[k] = int(v.split()[0]) * 1024
    return fields


def reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux >= 4.0). False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def blas_name():
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
        for name in ("openblas", "mkl", "blis", "libblas"):
            if name in maps:
                return name
    except OSError:
        pass
    return "unknown"


# ---- data --------------------------------------------------------------------------------------


def load(data_dir, dtype=torch.float32):
    """The exported graph as A_hat (sparse CSR), features, labels and training nodes. A_hat and the
    features are built in `dtype`: the float64 gradient reference normalises in float64 too."""
    meta = json.load(open(os.path.join(data_dir, "graph.json")))
    n, e, f = meta["nodes"], meta["edges"], meta["features"]
    rd = lambda name, dt: np.fromfile(os.path.join(data_dir, name), dtype=dt)
    rowptr = rd("rowptr.bin", np.uint32).astype(np.int64)
    src = rd("srcidx.bin", np.uint32).astype(np.int64)
    x = torch.from_numpy(rd("features.bin", np.float32).reshape(n, f).copy()).to(dtype)
    y = torch.from_numpy(rd("labels.bin", np.int32).astype(np.int64))
    train = torch.from_numpy(rd("train.bin", np.uint32).astype(np.int64))
    # A_hat with the self loops: row v holds v's in-edges u -> v and v itself.
    deg = torch.from_numpy(np.diff(rowptr) + 1).to(dtype)
    dst = np.repeat(np.arange(n, dtype=np.int64), np.diff(rowptr))
    rows = torch.from_numpy(np.concatenate([dst, np.arange(n, dtype=np.int64)]))
    cols = torch.from_numpy(np.concatenate([src, np.arange(n, dtype=np.int64)]))
    vals = deg[rows].rsqrt() * deg[cols].rsqrt()
    a = torch.sparse_coo_tensor(torch.stack([rows, cols]), vals, (n, n)).coalesce()
    a = a.to_sparse_csr()
    assert a.values().numel() == e + n
    return meta, a, x, y, train


def load_params(cfg, dtype=torch.float32):
    """Our initial values: stacked [L, ...] tensors become one tensor per block."""
    raw = np.fromfile(cfg["params_file"], dtype=np.float32)
    out, off = {}, 0
    for spec in cfg["params"]:
        size = int(np.prod(spec["shape"])) if spec["shape"] else 1
        t = torch.from_numpy(raw[off : off + size].reshape(spec["shape"]).copy()).to(dtype)
        off += size
        if spec["stacked"]:
            for l in range(spec["shape"][0]):
                out[f"{spec['name']}@{l}"] = t[l].clone()
        else:
            out[spec["name"]] = t
    assert off == raw.size, "parameter file size does not match the specs"
    return out


# ---- layers ------------------------------------------------------------------------------------


class SymSpmm(torch.autograd.Function):
    """A_hat @ x with a symmetric A_hat: the backward is the same product."""

    @staticmethod
    def forward(ctx, a, x):
        ctx.a = a
        return a @ x

    @staticmethod
    def backward(ctx, g):
        return None, ctx.a @ g


def dropout_mask(shape, p, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.empty(shape).bernoulli_(1 - p, generator=g).div_(1 - p)


def preact(h, gamma, beta, mask):
    z = F.relu(F.layer_norm(h, (h.shape[1],), gamma, beta, eps=1e-5))
    return z * mask if mask is not None else z


def gcn_group(a, h, w, mask):
    gamma, beta, weight, bias = w
    return SymSpmm.apply(a, preact(h, gamma, beta, mask) @ weight) + bias


# ---- RevGCN: grouped reversible stack ----------------------------------------------------------


def rev_block(a, xs, ws, masks):
    """x'_0 = sum_{i>=2} x_i; y_i = x_i + f_i(y_{i-1})."""
    prev = sum(xs[1:])
    ys = []
    for i, x in enumerate(xs):
        prev = x + gcn_group(a, prev, ws[i], masks[i])
        ys.append(prev)
    return ys


def rev_inverse(a, ys, ws, masks):
    """x_i = y_i - f_i(y_{i-1}) for i = C..2; x_1 = y_1 - f_1(sum_{i>=2} x_i)."""
    c = len(ys)
    xs = [None] * c
    for i in range(c - 1, 0, -1):
        xs[i] = ys[i] - gcn_group(a, ys[i - 1], ws[i], masks[i])
    xs[0] = ys[0] - gcn_group(a, sum(xs[1:]), ws[0], masks[0])
    return xs


class RevStack(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, env, *flat):
        a, groups, blocks, masks_of = env["a"], env["groups"], env["blocks"], env["masks"]
        ws = [[flat[(l * groups + i) * 4 : (l * groups + i) * 4 + 4] for i in range(groups)] for l in range(blocks)]
        ys = list(h.chunk(groups, dim=1))
        with torch.no_grad():
            for l in range(blocks):
                ys = rev_block(a, ys, ws[l], masks_of(l))
        out = torch.cat(ys, dim=1)
        ctx.env, ctx.ws = env, ws
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        env, ws = ctx.env, ctx.ws
        a, groups = env["a"], env["groups"]
        ys = [y.detach() for y in out.chunk(groups, dim=1)]
        gs = list(grad.chunk(groups, dim=1))
        grads = [None] * (len(ws) * groups * 4)
        for l in range(len(ws) - 1, -1, -1):
            masks = env["masks"](l)
            with torch.no_grad():
                xs = rev_inverse(a, ys, ws[l], masks)
            with torch.enable_grad():
                xs = [x.detach().requires_grad_() for x in xs]
                params = [t for w in ws[l] for t in w]
                again = rev_block(a, xs, ws[l], masks)
                got = torch.autograd.grad(again, xs + params, gs)
            gs = list(got[:groups])
            base = l * groups * 4
            grads[base : base + groups * 4] = got[groups:]
            ys = [x.detach() for x in xs]
        return (torch.cat(gs, dim=1), None, *grads)


# ---- models ------------------------------------------------------------------------------------


class Model:
    def __init__(self, cfg, a, values):
        self.cfg, self.a = cfg, a
        self.blocks, self.p = cfg["L"], cfg["p"]
        self.groups = cfg["C"] if cfg["model"] == "rev" else 1
        prefix = (
            [f"blocks.group{i + 1}." for i in range(self.groups)]
            if cfg["model"] == "rev"
            else ["blocks.gcn_group."]
        )
        names = ["preact.layer_norm.gamma", "preact.layer_norm.beta", "gcn_conv.W", "gcn_conv.b"]
        req = lambda t: t.requires_grad_()
        self.head = {k: req(values[k]) for k in ("W_in", "b_in", "W_out", "b_out")}
        self.norm = [req(values["preact.layer_norm.gamma"]), req(values["preact.layer_norm.beta"])]
        self.block_params = [
            [[req(values[f"{prefix[i]}{n}@{l}"]) for n in names] for i in range(self.groups)]
            for l in range(self.blocks)
        ]
        self.step_seed = 0

    def parameters(self):
        flat = [t for l in self.block_params for w in l for t in w]
        return list(self.head.values()) + self.norm + flat

    def masks(self, l, shape):
        if self.p <= 0 or not self.training:
            return [None] * self.groups
        base = (self.step_seed * 1_000_003 + l) * 16
        return [dropout_mask(shape, self.p, base + i) for i in range(self.groups)]

    def forward(self, x, training):
        self.training = training
        n = x.shape[0]
        h = x @ self.head["W_in"] + self.head["b_in"]
        width = h.shape[1] // self.groups
        if self.cfg["model"] == "rev":
            env = {
                "a": self.a,
                "groups": self.groups,
                "blocks": self.blocks,
                "masks": lambda l: self.masks(l, (n, width)),
            }
            if self.cfg.get("rev_backward", "revstack") == "autograd":
                # Plain autograd through the blocks: every activation kept, nothing rebuilt (the
                # mathematical gradient, which the cross-check takes as its reference).
                ys = list(h.chunk(self.groups, dim=1))
                for l in range(self.blocks):
                    ys = rev_block(self.a, ys, self.block_params[l], env["masks"](l))
                h = torch.cat(ys, dim=1)
            else:
                flat = [t for l in self.block_params for w in l for t in w]
                h = RevStack.apply(h, env, *flat)
        else:
            for l in range(self.blocks):
                h = h + gcn_group(self.a, h, self.block_params[l][0], self.masks(l, (n, width))[0])
        top = None
        if training and self.p > 0:
            top = dropout_mask(h.shape, self.p, self.step_seed * 1_000_003 + 999_999_937)
        return preact(h, self.norm[0], self.norm[1], top) @ self.head["W_out"] + self.head["b_out"]


def tensor_bytes(ts):
    return sum(t.numel() * t.element_size() for t in ts)


def self_check():
    """RevStack's gradients (inverse + re-forward) against plain autograd through the same blocks
    with the same dropout masks, on a small random graph in float64. Prints the largest relative
    difference over the input's and every parameter's gradient."""
    torch.manual_seed(0)
    n, d, groups, blocks = 50, 8, 2, 3
    idx = torch.randint(0, n, (2, 200))
    a = torch.sparse_coo_tensor(idx, torch.rand(200, dtype=torch.float64), (n, n)).coalesce()
    a = ((a + a.t()).coalesce() * 0.5).to_sparse_csr()
    w = d // groups
    mk = lambda *s: torch.randn(*s, dtype=torch.float64).requires_grad_()
    ws = [[[mk(w), mk(w), mk(w, w), mk(w)] for _ in range(groups)] for _ in range(blocks)]
    masks = lambda l: [dropout_mask((n, w), 0.5, 100 * l + i).double() for i in range(groups)]
    flat = [t for l in ws for g in l for t in g]
    h = mk(n, d)
    g_out = torch.randn(n, d, dtype=torch.float64)
    env = {"a": a, "groups": groups, "blocks": blocks, "masks": masks}
    got = torch.autograd.grad(RevStack.apply(h, env, *flat), [h] + flat, g_out)
    ys = list(h.chunk(groups, dim=1))
    for l in range(blocks):
        ys = rev_block(a, ys, ws[l], masks(l))
    want = torch.autograd.grad(torch.cat(ys, dim=1), [h] + flat, g_out)
    worst = max(((x - y).abs().max() / y.abs().max().clamp_min(1e-12)).item() for x, y in zip(got, want))
    print(json.dumps({"self_check_max_rel_diff": worst}))
    return worst


VARIANTS = {
    # name: (RevGCN's backward, precision). ResGCN has no reversible stack: autograd only.
    "autograd-f64": ("autograd", torch.float64),
    "autograd-f32": ("autograd", torch.float32),
    "revstack-f64": ("revstack", torch.float64),
    "revstack-f32": ("revstack", torch.float32),
}


def gradients(data_dir, cfg):
    """One training step's gradient of the loss with respect to every parameter, at the exported
    initial values, for each requested variant (see VARIANTS). Each variant's gradients go to
    <out_dir>/grad-<variant>.bin as float64, in the order and layout of the parameter file
    (stacked tensors [L, ...] block after block), so the harness compares them element for
    element with revgnn's. No dropout: the harness compiles the model with p = 0."""
    if cfg["p"] != 0:
        raise SystemExit("gradient mode compares without dropout: compile the model with p = 0")
    result = {"torch": torch.__version__, "variants": {}}
    for name in cfg["variants"]:
        backward, dtype = VARIANTS[name]
        if backward == "revstack" and cfg["model"] != "rev":
            raise SystemExit(f"{name}: only RevGCN has a reversible stack")
        meta, a, x, y, train = load(data_dir, dtype)
        values = load_params(cfg, dtype)
        model = Model(dict(cfg, rev_backward=backward), a, values)
        loss = F.cross_entropy(model.forward(x, True)[train], y[train])
        loss.backward()
        # Model made the loaded tensors the leaves in place, so their .grad is the gradient.
        chunks = []
        for spec in cfg["params"]:
            if spec["stacked"]:
                blocks = [values[f"{spec['name']}@{l}"] for l in range(spec["shape"][0])]
                g = torch.stack([grad_or_zeros(t) for t in blocks])
            else:
                g = grad_or_zeros(values[spec["name"]])
            chunks.append(g.detach().to(torch.float64).reshape(-1).numpy())
        file = os.path.join(cfg["out_dir"], f"grad-{name}.bin")
        np.concatenate(chunks).tofile(file)
        result["variants"][name] = {"loss": loss.item(), "file": file}
    return result


def grad_or_zeros(t):
    return t.grad if t.grad is not None else torch.zeros_like(t)


def main():
    if sys.argv[1] == "--self-check":
        sys.exit(0 if self_check() < 1e-9 else 1)
    if sys.argv[1] == "--gradients":
        cfg = json.load(open(sys.argv[3]))
        torch.set_num_threads(cfg.get("threads", 1))
        print(json.dumps(gradients(sys.argv[2], cfg)))
        return
    # --serve: after the first step, one step per "step" line on stdin, each answered with one
    # JSON line, so that the caller can alternate these steps with its own (bench/lib/alternate.ts).
    serve = sys.argv[1] == "--serve"
    data_dir, cfg_path = sys.argv[2:4] if serve else sys.argv[1:3]
    cfg = json.load(open(cfg_path))
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    meta, a, x, y, train = load(data_dir)
    model = Model(cfg, a, load_params(cfg))
    params = model.parameters()
    opt = torch.optim.Adam(params, lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=cfg["weight_decay"])

    with torch.no_grad():
        init_eval_loss = F.cross_entropy(model.forward(x, False)[train], y[train]).item()

    def step(t):
        model.step_seed = cfg["seed"] * 7919 + t
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model.forward(x, True)[train], y[train])
        loss.backward()
        opt.step()
        return loss.item()

    static = tensor_bytes([a.values(), a.crow_indices(), a.col_indices(), x, y, train] + params)
    before = read_status()["VmRSS"]
    hwm_reset = reset_peak_rss()
    t0 = time.perf_counter()
    losses = [step(1)]
    first = time.perf_counter() - t0
    peak = read_status()["VmHWM"]
    seconds = []
    if serve:
        t = 1
        while sys.stdin.readline().strip() == "step":
            t += 1
            t0 = time.perf_counter()
            losses.append(step(t))
            seconds.append(time.perf_counter() - t0)
            print(json.dumps({"seconds": seconds[-1], "loss": losses[-1]}), flush=True)
    for t in range(2, 1 if serve else cfg["steps"] + 1):
        t0 = time.perf_counter()
        losses.append(step(t))
        seconds.append(time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "blas": blas_name(),
                "init_eval_loss": init_eval_loss,
                "losses": losses,
                "first_step_seconds": first,
                "step_seconds": seconds,
                "memory": {
                    "static_bytes": static,
                    "rss_before_step": before,
                    "peak_rss_step1": peak,
                    "step_peak_delta": peak - before if hwm_reset else None,
                    "hwm_reset": hwm_reset,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
