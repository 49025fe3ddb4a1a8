#!/usr/bin/python3
"""The PyTorch side of the benchmark suite: the four workloads of bench/README.md in float64, eager autograd.

Each timed call is one forward pass plus torch.autograd.grad (the backward pass), the same unit of work as the
library's AD.ValueAndGrad call. Times come from timeit: the number of calls per repeat is chosen by
Timer.autorange (at least 0.2 s per repeat), and the best and the median of several repeats are reported,
per call, in seconds. Forward-only times (under torch.no_grad) are reported too.

The inputs are the C# suite's: W3's data comes from the same SplitMix64 generator (seed 42, same order), so the
values printed here can be compared with `Benchmarks --check`.

Usage: /usr/bin/python3 bench/torch_bench.py [--quick] [--threads N] [--label NAME] [--out FILE]
Prints (or writes) one JSON document. Not a dependency of the library or its tests.
"""
import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import sys
import time
import timeit

import torch
import torch.nn.functional as F

DTYPE = torch.float64

# ---------------------------------------------------------------------------------------------- data


class SplitMix64:
    """Bit-for-bit the generator of bench/Benchmarks/Data.cs."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def next_double(self):
        return (self.next() >> 11) * (1.0 / (1 << 53))

    def symmetric(self, a):
        return (2 * self.next_double() - 1) * a

    def matrix(self, rows, cols, a=None):
        n = rows * cols
        d = [self.next_double() for _ in range(n)] if a is None else [self.symmetric(a) for _ in range(n)]
        return torch.tensor(d, dtype=DTYPE).reshape(rows, cols)

    def vector(self, n, a):
        return torch.tensor([self.symmetric(a) for _ in range(n)], dtype=DTYPE)


# ---------------------------------------------------------------------------------------------- workloads

CHAIN_OPS = 1000
CHAIN_X0 = 0.3


def chain(x):
    """Workload 1: x + 0.5, x * 0.8, tanh, exp, sin, cycled 1000 times (ScalarChain.cs)."""
    for i in range(CHAIN_OPS):
        r = i % 5
        if r == 0:
            x = x + 0.5
        elif r == 1:
            x = x * 0.8
        elif r == 2:
            x = torch.tanh(x)
        elif r == 3:
            x = torch.exp(x)
        else:
            x = torch.sin(x)
    return x


def make_workloads():
    w = {}

    # 1. scalar chain
    def w1_grad():
        x = torch.tensor(CHAIN_X0, dtype=DTYPE, requires_grad=True)
        y = chain(x)
        (g,) = torch.autograd.grad(y, x)
        return y, g

    def w1_forward():
        with torch.no_grad():
            return chain(torch.tensor(CHAIN_X0, dtype=DTYPE))

    def w1_values():
        y, g = w1_grad()
        return {"value": y.item(), "grad": g.item()}

    w["W1"] = (w1_grad, w1_forward, w1_values)

    # 2. seed 000: z = 3 x.(w + 2)^2
    x2 = torch.full((3,), 0.5, dtype=DTYPE)
    w2 = torch.ones(3, dtype=DTYPE, requires_grad=True)

    def w2_f(w):
        return 3 * torch.dot(x2, (w + 2) ** 2)

    def w2_grad():
        z = w2_f(w2)
        (g,) = torch.autograd.grad(z, w2)
        return z, g

    def w2_forward():
        with torch.no_grad():
            return w2_f(w2)

    def w2_values():
        z, g = w2_grad()
        return {"value": z.item(), "grad": g.tolist()}

    w["W2"] = (w2_grad, w2_forward, w2_values)

    # 3. MLP 784 -> 256 (tanh) -> 10, batch 64, mean softmax cross-entropy (Mlp.cs, same data)
    rng = SplitMix64(42)
    a1, a2 = 1 / math.sqrt(784), 1 / math.sqrt(256)
    X = rng.matrix(64, 784)
    W1 = rng.matrix(784, 256, a1).requires_grad_()
    b1 = rng.vector(256, a1).requires_grad_()
    W2 = rng.matrix(256, 10, a2).requires_grad_()
    b2 = rng.vector(10, a2).requires_grad_()
    labels = torch.tensor([int(rng.next_double() * 10) for _ in range(64)], dtype=torch.int64)
    params = [W1, b1, W2, b2]

    def mlp_loss():
        return F.cross_entropy(torch.tanh(X @ W1 + b1) @ W2 + b2, labels)

    def w3_grad():
        loss = mlp_loss()
        return loss, torch.autograd.grad(loss, params)

    def w3_forward():
        with torch.no_grad():
            return mlp_loss()

    def w3_values():
        loss, g = w3_grad()
        names = ["W1", "b1", "W2", "b2"]
        return {"value": loss.item(), "grad_norms": {n: gi.norm().item() for n, gi in zip(names, g)},
                "labels_head": labels[:8].tolist(), "x_00": X[0, 0].item()}

    w["W3"] = (w3_grad, w3_forward, w3_values)

    # 4. sum(tanh(x) * exp(-x^2)), x = linspace(-2, 3, 1e6) computed as in Elementwise.cs
    n = 1_000_000
    x4 = (-2 + 5.0 * torch.arange(n, dtype=DTYPE) / (n - 1)).requires_grad_()

    def w4_f(x):
        return (torch.tanh(x) * torch.exp(-torch.square(x))).sum()

    def w4_grad():
        y = w4_f(x4)
        (g,) = torch.autograd.grad(y, x4)
        return y, g

    def w4_forward():
        with torch.no_grad():
            return w4_f(x4)

    def w4_values():
        y, g = w4_grad()
        return {"value": y.item(), "grad_sum": g.sum().item(), "grad_norm": g.norm().item()}

    w["W4"] = (w4_grad, w4_forward, w4_values)
    return w


def make_second_order():
    """Hessians of sum(tanh(A x)) for n = 10 and 100 (A n x n), and an Hvp for n = 1e4 with A of 100 rows
    (Hessians.cs, same data: SplitMix64 seed 7). Hessian: torch.autograd.functional.hessian; Hvp: double backward."""
    out = {}
    for name, rows, n in (("H10", 10, 10), ("H100", 100, 100), ("Hvp1e4", 100, 10_000)):
        rng = SplitMix64(7)
        a = rng.matrix(rows, n, 1 / math.sqrt(n))
        x = rng.vector(n, 1)
        v = rng.vector(n, 1)

        def f(x, a=a):
            return torch.tanh(a @ x).sum()

        if name.startswith("Hvp"):
            def run(x=x, v=v, f=f):
                xr = x.detach().requires_grad_()
                (g,) = torch.autograd.grad(f(xr), xr, create_graph=True)
                (hv,) = torch.autograd.grad(g, xr, v)
                return hv

            def values(run=run):
                hv = run()
                return {"norm": hv.norm().item(), "head": hv[:3].tolist()}
        else:
            def run(x=x, f=f):
                return torch.autograd.functional.hessian(f, x)

            def values(run=run):
                h = run()
                return {"norm": h.norm().item(), "h00": h[0, 0].item(), "h01": h[0, 1].item()}
        out[name] = (run, values)
    return out


def make_training():
    """One training step (forward, backward, torch.optim.Adam(lr=1e-3).step()) of the digits MLP (batch 32,
    64 -> 32 -> 10) and of W3's (batch 64, 784 -> 256 -> 10), on the data of Training.cs's MlpData (seed 42)."""
    t = {}
    for name, (batch, n_in, hidden, classes) in {"digits": (32, 64, 32, 10), "W3": (64, 784, 256, 10)}.items():
        rng = SplitMix64(42)
        a1, a2 = 1 / math.sqrt(n_in), 1 / math.sqrt(hidden)
        X = rng.matrix(batch, n_in)
        W1 = rng.matrix(n_in, hidden, a1).requires_grad_()
        b1 = rng.vector(hidden, a1).requires_grad_()
        W2 = rng.matrix(hidden, classes, a2).requires_grad_()
        b2 = rng.vector(classes, a2).requires_grad_()
        labels = torch.tensor([int(rng.next_double() * classes) for _ in range(batch)], dtype=torch.int64)
        opt = torch.optim.Adam([W1, b1, W2, b2], lr=1e-3)

        def step(X=X, W1=W1, b1=b1, W2=W2, b2=b2, labels=labels, opt=opt):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(torch.tanh(X @ W1 + b1) @ W2 + b2, labels)
            loss.backward()
            opt.step()
            return loss

        t[name] = step
    return t


# ---------------------------------------------------------------------------------------------- timing


def time_call(fn, quick):
    """Seconds per call: best and median of several timeit repeats, each of Timer.autorange's count."""
    fn()  # warm-up
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    repeats = 3 if quick else 7
    if quick:
        number = max(1, number // 4)
    per_call = [t / number for t in timer.repeat(repeat=repeats, number=number)]
    return {"best_s": min(per_call), "median_s": statistics.median(per_call), "number": number, "repeats": repeats}


def matmul_gflops(quick):
    """GFLOP/s of a float64 64x784 . 784x256 product, the forward product of workload 3."""
    g = torch.Generator().manual_seed(0)
    a = torch.rand(64, 784, dtype=DTYPE, generator=g)
    b = torch.rand(784, 256, dtype=DTYPE, generator=g)
    t = time_call(lambda: a @ b, quick)
    # CPU time over wall time of a loop of products: ~1 when the BLAS really runs on one thread.
    n = max(1, t["number"])
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        a @ b
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"gflops": 2 * 64 * 784 * 256 / t["best_s"] / 1e9, "cpu_per_wall": cpu / wall}


# ---------------------------------------------------------------------------------------------- environment


def loaded_blas():
    """The BLAS/LAPACK shared objects really mapped into this process (after a product has run)."""
    libs = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path)
                if "blas" in name or "lapack" in name:
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def openblas_info(libs):
    for path in libs:
        if "openblas" not in os.path.basename(path):
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return {"config": lib.openblas_get_config().decode(), "core": lib.openblas_get_corename().decode(),
                    "threads": lib.openblas_get_num_threads()}
        except (OSError, AttributeError):
            continue
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer, shorter repeats: checks the pipeline, measures little")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--label", default="", help="a name for this run (e.g. ref, openblas)")
    ap.add_argument("--out", default="-", help="JSON file to write (default: stdout)")
    ap.add_argument("--only", default="", help="comma-separated workloads to run (W1,W2,W3,W4; T for the training steps)")
    args = ap.parse_args()

    default_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    result = {
        "label": args.label,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "threads_default": default_threads,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "LD_LIBRARY_PATH")},
        "quick": args.quick,
    }
    product = matmul_gflops(args.quick)
    result["matmul_64x784x256_gflops"] = product["gflops"]
    result["matmul_cpu_per_wall"] = product["cpu_per_wall"]
    result["blas_loaded"] = loaded_blas()
    result["openblas"] = openblas_info(result["blas_loaded"])

    only = {s.strip() for s in args.only.split(",") if s.strip()}
    result["workloads"] = {}
    for name, (grad, forward, values) in make_workloads().items():
        if only and name not in only:
            continue
        entry = {"grad": time_call(grad, args.quick), "forward": time_call(forward, args.quick), "values": values()}
        result["workloads"][name] = entry
        print(f"torch[{args.label}] {name}: grad {entry['grad']['best_s'] * 1e6:.1f} us, "
              f"forward {entry['forward']['best_s'] * 1e6:.1f} us", file=sys.stderr)

    result["second_order"] = {}
    for name, (run, values) in make_second_order().items():
        if only and name not in only:
            continue
        entry = {"time": time_call(run, args.quick), "values": values()}
        result["second_order"][name] = entry
        print(f"torch[{args.label}] {name}: {entry['time']['best_s'] * 1e6:.1f} us", file=sys.stderr)

    result["training"] = {}
    if not only or "T" in only:
        for name, step in make_training().items():
            entry = {"time": time_call(step, args.quick)}
            result["training"][name] = entry
            print(f"torch[{args.label}] training step {name}: {entry['time']['best_s'] * 1e6:.1f} us", file=sys.stderr)

    text = json.dumps(result, indent=2)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
