#!/usr/bin/python3
"""Reads the results of bench/run.sh and prints one table (see bench/README.md for the columns).

Inputs, all in the results folder (bench/results by default):
  bdn/results/*-report-brief.json   BenchmarkDotNet's JSON export (joined summary)
  check.json                        `Benchmarks --check`: the library's values, the environment of the .NET side
  torch_ref.json, torch_openblas.json   bench/torch_bench.py, once per BLAS
Missing inputs give empty cells, not an error.
"""
import argparse
import glob
import json
import os
import sys

WORKLOADS = [
    ("W1", "W1_ScalarChain", "1000 scalar ops, fwd+grad"),
    ("W2", "W2_Seed000", "seed 000 z = 3x.(w+2)^2"),
    ("W3", "W3_Mlp", "MLP 64x784-256-10 loss grad"),
    ("W4", "W4_Elementwise", "sum(tanh(x)*exp(-x^2)), 1e6"),
]
CHAIN_OPS = 1000
# Workload 3's multiply-adds: forward X.W1 and H.W2; backward dW2 = H'.dZ, dH = dZ.W2', dW1 = X'.dA1 (no dX).
W3_FLOP_GRAD = 2 * (64 * 784 * 256 + 64 * 256 * 10) + 2 * (256 * 64 * 10 + 64 * 10 * 256 + 784 * 64 * 256)
PRODUCT_FLOP = 2 * 64 * 784 * 256

TARGETS = {
    "W1": "per op >= 100x faster than PyTorch eager",
    "W2": ">= 50x faster than PyTorch eager",
    "W3": "library <= 1.3x hand-written",
    "W4": "library <= 1.3x hand-written",
}
GRAD_FORWARD_TARGET = 3.0


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_ratio(x):
    if x is None:
        return "-"
    return f"{x:.3g}x" if x < 100 else f"{x:.0f}x"


def ratio(a, b):
    return a / b if a is not None and b else None


def bdn_times(results, stat):
    """{(Type, Method): (ns, bytes allocated per call)} from the BenchmarkDotNet JSON export(s)."""
    out, jobs = {}, set()
    files = sorted(glob.glob(os.path.join(results, "bdn", "results", "*-report-brief.json")))
    for path in files:
        doc = load(path) or {}
        for b in doc.get("Benchmarks", []):
            stats = b.get("Statistics") or {}
            ns = stats.get(stat)
            if ns is None:
                continue
            mem = (b.get("Memory") or {}).get("BytesAllocatedPerOperation")
            out[(b["Type"], b["Method"])] = (ns, mem)
            params = b.get("Parameters")
            if params:
                out[(b["Type"], f"{b['Method']}|{params}")] = (ns, mem)
            job = b.get("DisplayInfo", "").split(": ", 1)[-1].split("(", 1)[0]
            if job:
                jobs.add(job)
    return out, files, jobs


def torch_time(doc, workload, kind, stat):
    try:
        t = doc["workloads"][workload][kind]
    except (KeyError, TypeError):
        return None
    return t["best_s" if stat == "Min" else "median_s"] * 1e9


def _timed(doc, section, key, stat):
    """ns of doc[section][key]["time"] (torch_bench.py's second_order and training entries), or None."""
    try:
        t = doc[section][key]["time"]
    except (KeyError, TypeError):
        return None
    return t["best_s" if stat == "Min" else "median_s"] * 1e9


def _second(doc, key, stat):
    return _timed(doc, "second_order", key, stat)


def rel_diff(a, b):
    if isinstance(a, list):
        return max(rel_diff(x, y) for x, y in zip(a, b)) if len(a) == len(b) else float("inf")
    if isinstance(a, dict):
        return max(rel_diff(a[k], b[k]) for k in a) if set(a) == set(b) else float("inf")
    return abs(a - b) / max(abs(b), 1e-300)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    ap.add_argument("--stat", choices=["min", "median"], default="min",
                    help="BenchmarkDotNet statistic and the matching timeit one (min = best of repeats; default)")
    ap.add_argument("--markdown", help="also write the report to this file")
    args = ap.parse_args()
    stat = "Min" if args.stat == "min" else "Median"

    bdn, bdn_files, jobs = bdn_times(args.results, stat)
    check = load(os.path.join(args.results, "check.json"))
    torch_runs = [("ref", load(os.path.join(args.results, "torch_ref.json"))),
                  ("openblas", load(os.path.join(args.results, "torch_openblas.json")))]
    torch_runs = [(label, doc) for label, doc in torch_runs]

    lines = []
    p = lines.append
    quick = any(doc and doc.get("quick") for _, doc in torch_runs) or any(j in ("Quick", "Dry") for j in jobs)
    p(f"Functional.Autodiff benchmarks: time per call ({'best of repeats' if stat == 'Min' else 'median'}), float64;"
      f" BenchmarkDotNet job {'/'.join(sorted(jobs)) or '?'}"
      + ("  [QUICK/DRY RUN: a pipeline check, not a measurement]" if quick else ""))
    th = [f"PyTorch {doc['threads']} (its default here: {doc['threads_default']})" for _, doc in torch_runs if doc][:1]
    if check:
        env = check.get("env", {})
        th.append(f"MathNet {env.get('mathnet_threads')} (its default here: {env.get('mathnet_threads_default')})")
    if th:
        p("Threads: " + ", ".join(th) + "; the library and TensorPrimitives are single-threaded.")
    p("")
    header = ["workload", "lib grad", "compiled", "hand grad", "lib fwd", "torch ref", "torch openblas",
              "lib/hand", "compiled/hand", "grad/fwd", "torch ref/lib", "torch openblas/lib"]
    rows = []
    verdicts = []
    delegate_verdict = None
    for key, cls, title in WORKLOADS:
        lg = bdn.get((cls, "LibraryGrad"), (None, None))[0]
        cg = bdn.get((cls, "CompiledGrad"), (None, None))[0]
        hg = bdn.get((cls, "HandWrittenGrad"), (None, None))[0]
        lf = bdn.get((cls, "LibraryForward"), (None, None))[0]
        tr = torch_time(dict(torch_runs)["ref"], key, "grad", stat)
        to = torch_time(dict(torch_runs)["openblas"], key, "grad", stat)
        r = [f"{key} {title}", lg, cg, hg, lf, tr, to, ratio(lg, hg), ratio(cg, hg), ratio(lg, lf), ratio(tr, lg), ratio(to, lg)]
        rows.append(r)
        if key == "W1":
            per = [None if v is None else v / CHAIN_OPS for v in (lg, cg, hg, lf, tr, to)]
            rows.append(["   W1 per op"] + per + [None, None, None, ratio(per[4], per[0]), ratio(per[5], per[0])])
            # The chain compiled once to a delegate (AD.CompileGrad of an expression tree; AD.CompileScalarGrad of the
            # Expr chain): the delegate's time in the library's gradient column, against the same hand-written code.
            # "hand grad, library kernels" is the hand-written code on the library's scalar kernels, which the delegates
            # use (bit for bit the graph path's): delegate / that is the emitter's own cost.
            hk = bdn.get((cls, "HandWrittenLibraryKernelsGrad"), (None, None))[0]
            if hk is not None:
                rows.append(["   W1 hand-written, library kernels", hk, None, hg, None, None, None, ratio(hk, hg), None, None, None, None])
            for meth, label in (("ExpressionTreeGrad", "   W1 expression-tree delegate"), ("ScalarGraphGrad", "   W1 scalar-graph delegate")):
                dg = bdn.get((cls, meth), (None, None))[0]
                if dg is None:
                    continue
                rows.append([label, dg, None, hg, None, tr, to, ratio(dg, hg), None, None, ratio(tr, dg), ratio(to, dg)])
                if meth == "ExpressionTreeGrad":
                    dh = ratio(dg, hg)
                    delegate_verdict = (f"  W1: {'expression-tree delegate <= 1.5x hand-written':<42} got {fmt_ratio(dh):<30} "
                                        f"{'MET' if dh is not None and dh <= 1.5 else 'MISSED'}")

        gf = ratio(lg, lf)
        if key in ("W1", "W2"):
            fastest_torch = min([t for t in (tr, to) if t is not None], default=None)
            speedup = ratio(fastest_torch, lg)
            need = 100 if key == "W1" else 50
            ok = speedup is not None and speedup >= need
            got = f"{fmt_ratio(speedup)} (vs the faster PyTorch run)"
        else:
            lh = ratio(lg, hg)
            ok = lh is not None and lh <= 1.3
            got = fmt_ratio(lh)
        verdicts.append(f"  {key}: {TARGETS[key]:<42} got {got:<30} {'MET' if ok else 'MISSED'}")
        verdicts.append(f"  {key}: gradient <= {GRAD_FORWARD_TARGET:g}x forward{'':<21} got {fmt_ratio(gf):<30} "
                        f"{'MET' if gf is not None and gf <= GRAD_FORWARD_TARGET else 'MISSED'}")
        if delegate_verdict:
            verdicts.append(delegate_verdict)
            delegate_verdict = None

    cells = [[r[0]] + [fmt_time(v) for v in r[1:7]] + [fmt_ratio(v) for v in r[7:]] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    p("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    p("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        p("| " + " | ".join((v.ljust(w) if i == 0 else v.rjust(w)) for i, (v, w) in enumerate(zip(c, widths))) + " |")
    p("")
    p("lib/hand = library gradient / hand-written gradient (same BenchmarkDotNet run); compiled = Compiled.ValueAndGrad"
      " (traced once, the program run per call); grad/fwd = library gradient /"
      " library forward; torch X/lib = PyTorch eager forward+backward / library gradient (the library's speed-up).")
    compile_times = [(key, bdn.get((cls, "Compile"), (None, None))[0]) for key, cls, _ in WORKLOADS]
    if any(t is not None for _, t in compile_times):
        p("Compile time (Compiled.ValueAndGrad: trace, build the program, first call): "
          + ", ".join(f"{key} {fmt_time(t)}" for key, t in compile_times if t is not None))
    p("")
    p("Targets:")
    lines.extend(verdicts)
    p("")

    # Second order (issue: faster than PyTorch on all three).
    second = [("H10", ("H_Hessian", "LibraryHessian", "N=10"), "Hessian of sum(tanh(A x)), n = 10"),
              ("H100", ("H_Hessian", "LibraryHessian", "N=100"), "Hessian of sum(tanh(A x)), n = 100"),
              ("Hvp1e4", ("H_Hvp", "LibraryHvp", None), "Hvp of sum(tanh(A x)), n = 1e4, A 100 rows")]
    if any(cls.startswith("H_") for cls, _ in bdn) or any(doc and doc.get("second_order") for _, doc in torch_runs):
        p("Second order: library vs PyTorch (torch.autograd.functional.hessian; Hvp by double backward):")
        for key, (cls, meth, param), title in second:
            lib = bdn.get((cls, meth if param is None else f"{meth}|{param}"), (None, None))[0]
            tr = _second(dict(torch_runs)["ref"], key, stat)
            to = _second(dict(torch_runs)["openblas"], key, stat)
            fastest = min([t for t in (tr, to) if t is not None], default=None)
            sp = ratio(fastest, lib)
            verdict = "-" if sp is None else ("MET" if sp > 1 else "MISSED")
            p(f"  {title:<44} lib {fmt_time(lib):>9}  torch ref {fmt_time(tr):>9}  torch openblas {fmt_time(to):>9}"
              f"  speed-up {fmt_ratio(sp):>7}  {verdict}")
            cmeth, label = ("CompiledHvp", "Compiled.Hvp") if key == "Hvp1e4" else ("CompiledHessian", "Compiled.Hessian")
            compiled = bdn.get((cls, cmeth if param is None else f"{cmeth}|{param}"), (None, None))[0]
            if compiled is not None:
                p(f"  {'  the same, compiled (' + label + ')':<44} lib {fmt_time(compiled):>9}"
                  f"  speed-up vs torch {fmt_ratio(ratio(fastest, compiled)):>7}  vs uncompiled {fmt_ratio(ratio(lib, compiled)):>7}")
        p("")

    # The GEMM row: the library's kernel, MathNet's managed provider and OpenBLAS in one BenchmarkDotNet run.
    env = (check or {}).get("env", {})
    gemm = {}
    for (typ, key), (ns, _) in bdn.items():
        if typ != "K_Gemm" or "|" not in key:
            continue
        method, params = key.split("|", 1)
        kv = dict(part.split("=", 1) for part in params.replace(", ", "&").split("&") if "=" in part)
        gemm[(kv.get("Shape"), int(kv.get("Threads", 1)), method)] = ns
    if gemm:
        peak = env.get("peak_gflops_measured")
        mhz, width = env.get("cpu_mhz") or 0, env.get("peak_width_bits") or 0
        computed = mhz / 1e3 * (width / 64) * 2 * 2 if mhz and width else None
        p("GEMM C = A.B (GFLOP/s, best of iterations; one BenchmarkDotNet run):")
        p(f"  library: {env.get('gemm_kernel', '?')}; OpenBLAS: {env.get('openblas', 'not run')}"
          f" (OPENBLAS_CORETYPE={env.get('openblas_coretype') or 'unset'}; max rel. diff vs library {env.get('openblas_vs_library_max_rel_diff', float('nan')):.1e})")
        if peak:
            p(f"  peak per core: measured {peak:.1f} GFLOP/s (FMA loop)"
              + (f", computed {computed:.1f} = {mhz / 1e3:.2f} GHz x {width // 64} lanes x 2 FMA units x 2" if computed else ""))
        p("")
        p("| shape            | threads | library | MathNet managed | OpenBLAS | lib/OpenBLAS | lib % of peak |")
        p("|------------------|---------|---------|-----------------|----------|--------------|---------------|")
        for shape in ["64x784x256", "256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048"]:
            m, k, n = (int(v) for v in shape.split("x"))
            flop = 2.0 * m * k * n
            for t in (1, 2):
                lib, mn, ob = (gemm.get((shape, t, meth)) for meth in ("Library", "MathNetManaged", "OpenBlas"))
                if lib is None and mn is None and ob is None:
                    continue
                g = lambda ns: flop / ns if ns else None
                cell = lambda x: f"{x:.1f}" if x is not None else "-"
                pct = f"{100 * g(lib) / (peak * t):.0f}%" if lib and peak else "-"
                p(f"| {shape:<16} | {t:>7} | {cell(g(lib)):>7} | {cell(g(mn)):>15} | {cell(g(ob)):>8} | {fmt_ratio(ratio(g(lib), g(ob))) if lib and ob else '-':>12} | {pct:>13} |")
        p("  Target: library >= 60% of peak per core and >= OpenBLAS at 512^2-2048^2, on 1 and 2 threads.")
        p("")

    # The matmul kernel of workload 3.
    p("Workload 3's products (the library's matmul runs on its own GEMM; MathNet's managed provider for comparison):")
    prod = bdn.get(("K_MathNetProduct", "Product"), (None, None))[0]
    tprod = bdn.get(("K_MathNetProduct", "TransposedThenProduct"), (None, None))[0]
    tthis = bdn.get(("K_MathNetProduct", "TransposeThisAndMultiply"), (None, None))[0]
    libprod = gemm.get(("64x784x256", 1, "Library")) if gemm else None
    if libprod:
        p(f"  library GEMM X.W1 (1 thread):         {fmt_time(libprod):>9}  = {PRODUCT_FLOP / libprod:.2f} GFLOP/s")
    if prod:
        p(f"  MathNet X.W1 product:                 {fmt_time(prod):>9}  = {PRODUCT_FLOP / prod:.2f} GFLOP/s")
    if tprod:
        p(f"  MathNet transpose(X).dA1:             {fmt_time(tprod):>9}  = {PRODUCT_FLOP / tprod:.2f} GFLOP/s")
    if tthis:
        p(f"  MathNet X.TransposeThisAndMultiply:   {fmt_time(tthis):>9}  = {PRODUCT_FLOP / tthis:.2f} GFLOP/s")
    for label, doc in torch_runs:
        if doc:
            p(f"  PyTorch ({label}) same product:{'':<{21 - len(label)}}{'':>9}  = {doc['matmul_64x784x256_gflops']:.2f} GFLOP/s"
              f" (CPU time / wall time {doc.get('matmul_cpu_per_wall', float('nan')):.2f})")
    lg3 = bdn.get(("W3_Mlp", "LibraryGrad"), (None, None))[0]
    rate = libprod or prod
    if lg3 and rate:
        share = (W3_FLOP_GRAD / PRODUCT_FLOP) * rate / lg3
        p(f"  W3 gradient = {W3_FLOP_GRAD / 1e6:.1f} MFLOP of products: {W3_FLOP_GRAD / lg3:.2f} GFLOP/s overall;"
          f" at the {'library GEMM' if libprod else 'MathNet'} X.W1 rate the products alone take ~{100 * share:.0f}% of the library's gradient time.")
    p("")

    def fmt_bytes(b):
        if b is None:
            return "-"
        for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
            if b >= scale:
                return f"{b / scale:.3g} {unit}"
        return f"{b} B"

    if any(v[1] is not None for v in bdn.values()):
        p("Allocated per call (BenchmarkDotNet MemoryDiagnoser): library gradient / compiled gradient / library forward / hand-written gradient")
        for key, cls, _ in WORKLOADS:
            m = [fmt_bytes(bdn.get((cls, meth), (None, None))[1]) for meth in ("LibraryGrad", "CompiledGrad", "LibraryForward", "HandWrittenGrad")]
            p(f"  {key}: {' / '.join(m)}")
        p("")

    # Training: one step (forward, gradient, Adam) and the data-parallel batch gradient.
    if any(cls == "T_TrainStep" for cls, _ in bdn) or any(doc and doc.get("training") for _, doc in torch_runs):
        p("Training step (forward, gradient, Adam update; lr 1e-3): library vs hand-written (in place) vs torch.optim.Adam, float64:")
        for model, title in (("digits", "digits MLP, batch 32, 64-32-10"), ("W3", "W3 MLP, batch 64, 784-256-10")):
            lib, lmem = bdn.get(("T_TrainStep", f"LibraryStep|Model={model}"), (None, None))
            comp, cmem = bdn.get(("T_TrainStep", f"CompiledStep|Model={model}"), (None, None))
            hand, hmem = bdn.get(("T_TrainStep", f"HandWrittenStep|Model={model}"), (None, None))
            tr = _timed(dict(torch_runs).get("ref"), "training", model, stat)
            to = _timed(dict(torch_runs).get("openblas"), "training", model, stat)
            p(f"  {title:<32} lib {fmt_time(lib):>9} ({fmt_bytes(lmem)} allocated/step)  compiled {fmt_time(comp):>9}"
              f" ({fmt_bytes(cmem)})  hand {fmt_time(hand):>9}"
              f" ({fmt_bytes(hmem)})  torch ref {fmt_time(tr):>9}  torch openblas {fmt_time(to):>9}"
              f"  lib/hand {fmt_ratio(ratio(lib, hand))}  compiled/hand {fmt_ratio(ratio(comp, hand))}")
        p("")
    if any(cls == "P_DataParallel" for cls, _ in bdn):
        p("Data-parallel batch gradient (W3 MLP, batch 256; MathNet on one thread, so the chunks are the only parallelism):")
        for meth, what in (("Gradient", "graph per chunk"), ("CompiledGradient", "compiled chunk gradient, data as inputs")):
            one = bdn.get(("P_DataParallel", f"{meth}|Chunks=1"), (None, None))[0]
            p(f"  {what}:")
            for c in (1, 2, 4):
                t, mem = bdn.get(("P_DataParallel", f"{meth}|Chunks={c}"), (None, None))
                p(f"    {c} chunk{'s' if c > 1 else ' '}: {fmt_time(t):>9} ({fmt_bytes(mem)} allocated)  speed-up over 1 chunk {fmt_ratio(ratio(one, t))}")
            p(f"    target on 2 cores: >= 1.8x with 2 chunks, got {fmt_ratio(ratio(one, bdn.get(('P_DataParallel', f'{meth}|Chunks=2'), (None, None))[0]))}")
        p("")

    # Where the library's gradient time goes (D_Breakdown): forward + AD.Gradients of the built graph ~ gradient.
    parts = [("W1", "W1_ScalarChain", ["W1PostOrder", "W1Gradients"]), ("W2", "W2_Seed000", ["W2Gradients"]),
             ("W4", "W4_Elementwise", ["W4Gradients"])]
    names = {"W1PostOrder": "Graph.PostOrder", "W1Gradients": "AD.Gradients", "W2Gradients": "AD.Gradients",
             "W4Gradients": "AD.Gradients"}
    if any(("D_Breakdown", m) in bdn for _, _, ms in parts for m in ms):
        p("Breakdown of the library gradient (graph built beforehand):")
        for key, cls, methods in parts:
            lg = bdn.get((cls, "LibraryGrad"), (None, None))[0]
            lf = bdn.get((cls, "LibraryForward"), (None, None))[0]
            cells = [f"forward {fmt_time(lf)}"]
            for m in methods:
                t = bdn.get(("D_Breakdown", m), (None, None))[0]
                cells.append(f"{names[m]} {fmt_time(t)}")
            cells.append(f"= whole gradient {fmt_time(lg)}")
            p(f"  {key}: " + ", ".join(cells[:-1]) + " " + cells[-1])
        p("")

    # Threads, BLAS, environment.
    p("Setup:")
    if check:
        env = check.get("env", {})
        p(f"  .NET: {env.get('runtime')}, products: {env.get('products')}; MathNet provider {env.get('mathnet_provider')}, MathNet threads "
          f"{env.get('mathnet_threads')} (MathNet's default here: {env.get('mathnet_threads_default')}), {env.get('simd')}")
    for label, doc in torch_runs:
        if not doc:
            p(f"  PyTorch ({label}): no results")
            continue
        blas = ", ".join(doc.get("blas_loaded") or ["?"])
        ob = doc.get("openblas")
        obs = (f"; {ob['config'].strip()}, core {ob['core']}, pool of {ob['threads']} threads"
               " (per call it follows torch's OpenMP thread count)") if ob else ""
        p(f"  PyTorch ({label}): torch {doc['torch']}, torch.set_num_threads({doc['threads']}) "
          f"(default here: {doc['threads_default']}); BLAS loaded: {blas}{obs}")
        envs = {k: v for k, v in (doc.get("env") or {}).items() if v and k.startswith("OPENBLAS")}
        if envs and label == "openblas" and set(envs) == {"OPENBLAS_CORETYPE"}:
            p(f"    OPENBLAS_CORETYPE={envs['OPENBLAS_CORETYPE']} forced (the CPU's best kernel), as for the GEMM row")
        elif envs:
            p(f"    warning: {envs} were set in this PyTorch run")
    ref, ob = dict(torch_runs)["ref"], dict(torch_runs)["openblas"]
    if ob and not any("openblas" in os.path.basename(x) for x in ob.get("blas_loaded") or []):
        p("  WARNING: the OpenBLAS run did not load OpenBLAS: its column is the reference BLAS again.")
    if ref and ob:
        p(f"  OpenBLAS check: the product runs {ob['matmul_64x784x256_gflops'] / ref['matmul_64x784x256_gflops']:.1f}x"
          " faster than with the reference BLAS.")
    p("")

    # Values: library vs PyTorch.
    if check:
        p("Values (library vs hand-written: from --check; library vs PyTorch: relative difference):")
        for key, _, _ in WORKLOADS:
            lib = check.get(key, {})
            parts = [f"lib/hand {lib.get('rel_diff', float('nan')):.1e}"]
            for label, doc in torch_runs:
                tv = (doc or {}).get("workloads", {}).get(key, {}).get("values")
                if tv is None:
                    continue
                fields = [k for k in ("value", "grad", "grad_norms", "grad_sum", "grad_norm") if k in tv and k in lib]
                parts.append(f"lib/torch {label} {max(rel_diff(lib[k], tv[k]) for k in fields):.1e}")
            p(f"  {key}: value {lib.get('value')}  " + ", ".join(parts))
        if not check.get("ok", False):
            p("  CHECK FAILED: " + "; ".join(check.get("failures", [])))
    p("")
    p(f"Sources: {', '.join(os.path.relpath(f) for f in bdn_files) or 'no BenchmarkDotNet results'}; statistic {stat}.")

    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
