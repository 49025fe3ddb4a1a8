"""Reference values for the selection, broadcasting and element-wise tests (tests/Core.Tests/Selection.fs), from
PyTorch in float64.

A reference tool only, never a dependency: run it by hand (Debian's python3-torch, /usr/bin/python3) and paste the
printed lines into the `reference` table of Selection.fs. Every number is printed with repr, which round-trips a
double exactly (inf and nan as F#'s infinity and nan). Matrices are printed column by column (the library's storage
order), vectors and scalars as they are.
"""

import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def fs(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "infinity" if v > 0 else "-infinity"
    return repr(v)


def show(name, t):
    t = torch.as_tensor(t)
    if t.dim() == 2:
        t = t.t()
    values = t.detach().flatten().tolist() if t.dim() > 0 else [t.item()]
    print(f'        "{name}", [| {"; ".join(fs(v) for v in values)} |]')


def grads(f, *xs, weights=None):
    """f's value at xs and the gradients of sum(w * f(xs)) (w all ones when not given) with respect to each x."""
    xs = [x.clone().requires_grad_(True) for x in xs]
    y = f(*xs)
    w = torch.ones_like(y) if weights is None else weights
    gs = torch.autograd.grad((w * y).sum(), xs, allow_unused=True)
    return y, [torch.zeros_like(x) if g is None else g for x, g in zip(xs, gs)]


def case(name, f, *xs, weights=None):
    y, gs = grads(f, *xs, weights=weights)
    show(name, y)
    for k, g in enumerate(gs):
        show(f"{name} d{k}", g)


# ---------------------------------------------------------------- broadcasting pairs
# M is 2x3; r a vector(3) and R its (1, 3) matrix; c a (2, 1) column; s a scalar. The cotangent is W (2x3).
M = torch.tensor([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]])
r = torch.tensor([0.25, 2.0, -1.5])
R = r.reshape(1, 3)
c = torch.tensor([[1.25], [-0.75]])
s = torch.tensor(0.5)
W = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
P = M.abs() + 0.5  # positive bases for pow

pairs = [("M,r", M, r), ("r,M", r, M), ("M,R", M, R), ("M,c", M, c), ("c,M", c, M), ("c,R", c, R), ("r,c", r, c), ("s,M", s, M)]
ops = [
    ("add", torch.add),
    ("sub", torch.sub),
    ("mul", torch.mul),
    ("div", torch.div),
    ("maximum", torch.maximum),
    ("minimum", torch.minimum),
]
for opname, f in ops:
    for pname, a, b in pairs:
        case(f"{opname} {pname}", f, a, b, weights=W)
# pow with a tensor exponent: positive bases
for pname, a, b in [("P,r", P, r), ("c+2,M", c + 2.0, M), ("P,c", P, c)]:
    case(f"pow {pname}", torch.pow, a, b, weights=W)
# where: a (2, 1) condition, a matrix and a row; a matrix condition and a scalar
cond = torch.tensor([[1.0], [0.0]])
case("where c,M,r", lambda a, b: torch.where(cond.bool(), a, b), M, r, weights=W)
condM = (M > 0.6).double()
show("mask M > 0.6", condM)
case("where M>0.6,M,s", lambda a, b: torch.where(condM.bool(), a, b), M, s, weights=W)

# ---------------------------------------------------------------- selection
a = torch.tensor([1.0, 2.0, 3.0, 2.0, -1.0])
b = torch.tensor([1.0, 3.0, 2.0, 2.0, -1.0])
case("maximum ties", torch.maximum, a, b)
case("minimum ties", torch.minimum, a, b)
inf = torch.tensor([math.inf, -math.inf])
case("maximum infinite ties", torch.maximum, inf, inf.clone())
x = torch.tensor([-2.0, -1.0, -0.5, 0.0, 1.0, 1.5])
case("clamp -1 1", lambda x: torch.clamp(x, -1.0, 1.0), x)
case("clamp 0 inf", lambda x: torch.clamp(x, min=0.0), x)
u = torch.tensor([1.0, 2.0, 3.0, math.nan, -0.0])
v = torch.tensor([2.0, 2.0, 2.0, 2.0, 0.0])
for opname, f in [("greater", torch.gt), ("greater_equal", torch.ge), ("less", torch.lt), ("less_equal", torch.le), ("equal", torch.eq)]:
    show(f"{opname} u,v", f(u, v).double())
case("where, inf unselected", lambda a, b: torch.where(torch.tensor([True, False]), a, b), torch.tensor([2.0, 3.0]), torch.tensor([math.inf, 4.0]))

# ---------------------------------------------------------------- element-wise
case("log1p", torch.log1p, torch.tensor([1e-10, -0.5, 0.3, 5.0, -1e-300]))
case("expm1", torch.expm1, torch.tensor([1e-10, -1e-5, 0.1, -0.5, 3.0, -40.0, 700.0, 1e-300]))
case("reciprocal", torch.reciprocal, torch.tensor([-2.0, 0.5, 4.0, 3.0]))
case("erf", torch.erf, torch.tensor([-3.0, -0.5, 0.0, 0.3, 2.0, 6.0]))
case("gelu", F.gelu, torch.tensor([-3.0, -0.5, 0.0, 0.7, 3.0]))
# For x < 0 torch's 1 + erf(x/√2) cancels (at -3 it is 30 ulps off, at -10 it is 0): the exact x·Φ(x), from mpmath
# at 40 digits, rounded once.
import mpmath

mpmath.mp.dps = 40
print(f"(torch's gelu(-10) = {fs(F.gelu(torch.tensor(-10.0)).item())})")
show("gelu exact", torch.tensor([float(mpmath.mpf(x) * mpmath.ncdf(x)) for x in [-10.0, -3.0, -0.5, 0.0, 0.7, 3.0]]))
case("sign", torch.sign, torch.tensor([-2.0, 0.0, 3.0]))
# pow with a tensor exponent: exact at whole exponents, and PyTorch's zeros at a zero base or a zero exponent
case("pow", torch.pow, torch.tensor([2.0, 0.5, 3.0, 0.0, 0.0, 2.0, -2.0]), torch.tensor([3.0, -1.5, 0.5, 2.0, 0.0, 0.0, 3.0]))
