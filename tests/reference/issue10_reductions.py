"""Reference values for the axis-reduction tests (tests/Core.Tests/AxisReductions.fs), from PyTorch in float64.

A reference tool only, never a dependency: run it by hand (Debian's python3-torch: /usr/bin/python3) and paste the
printed literals into the tests. Every number is printed with repr, which round-trips a double exactly. Matrices are
printed column by column (the order the tests' literals and the library's storage use). Each gradient is of
sum(w * y) for the weights w below (of y's shape), so every output element's gradient is pinned, not just their sum.
Max and min are torch.amax/amin (ties share the gradient evenly), not torch.max(dim) (one index gets it all).
"""

import torch

torch.set_default_dtype(torch.float64)


def show(name, t):
    t = t.detach()
    values = t.t().flatten().tolist() if t.dim() == 2 else t.flatten().tolist() if t.dim() == 1 else [t.item()]
    print(f"{name} {tuple(t.shape)} = [{'; '.join(repr(v) for v in values)}]")


def weights(shape):
    # (k mod 7 - 3) / 4 for k = 0 .. n-1 in row-major order: exact in binary, so the tests build the same numbers.
    n = 1
    for d in shape:
        n *= d
    return torch.tensor([(k % 7 - 3) / 4 for k in range(n)]).reshape(shape)


def value_and_grad(name, f, x0):
    x = x0.clone().requires_grad_(True)
    y = f(x)
    (g,) = torch.autograd.grad((weights(tuple(y.shape)) * y).sum(), x)
    show(name, y)
    show(name + " grad", g)


def hvp(name, f, x0, v):
    # H v of the scalar f at x0, by double backward.
    x = x0.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (h,) = torch.autograd.grad((g * v).sum(), x)
    show(name + " hvp", h)


# Ties: the max of all is 3 (twice), of column 1 and 2 is 3 (rows 0 and 0 / 0), row 1 is all 0.5, the min of all is -2 (twice).
ties = torch.tensor([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-2.0, 2.0, -1.0, 2.0]])
for name, f in [("max", torch.amax), ("min", torch.amin)]:
    value_and_grad(f"{name}(ties)", lambda x: f(x), ties)
    value_and_grad(f"{name}(ties, 0)", lambda x: f(x, dim=0), ties)
    value_and_grad(f"{name}(ties, 1)", lambda x: f(x, dim=1), ties)
value_and_grad("max(vector ties)", lambda x: torch.amax(x, dim=0), torch.tensor([1.0, 3.0, 3.0]))

m = torch.tensor([[0.5, -0.25, 1.75, -1.0], [2.0, 0.125, -0.5, 0.75], [-1.5, 1.25, 0.25, -2.0]])
value_and_grad("sum(m, 0)", lambda x: x.sum(dim=0), m)
value_and_grad("mean(m, 0)", lambda x: x.mean(dim=0), m)
value_and_grad("mean(m, 1)", lambda x: x.mean(dim=1), m)

# Log-sum-exp and (log-)softmax, at ordinary logits and at ±1e15.
huge = torch.tensor([[1e15, -1e15, 0.5], [1e15, 1e15, -3.0], [-1e15, -1e15, -1e15]])
for label, x in [("m", m), ("huge", huge)]:
    value_and_grad(f"logsumexp({label})", lambda x: torch.logsumexp(x.flatten(), dim=0), x)
    value_and_grad(f"logsumexp({label}, 0)", lambda x: torch.logsumexp(x, dim=0), x)
    value_and_grad(f"logsumexp({label}, 1)", lambda x: torch.logsumexp(x, dim=1), x)
    value_and_grad(f"softmax({label}, 0)", lambda x: torch.softmax(x, dim=0), x)
    value_and_grad(f"log_softmax({label}, 0)", lambda x: torch.log_softmax(x, dim=0), x)
    value_and_grad(f"log_softmax({label}, 1)", lambda x: torch.log_softmax(x, dim=1), x)
# At logits of 1e15 torch.logsumexp's backward, grad * exp(x - result), loses digits: the result rounds to the logits'
# spacing (1/8 at 1e15), so exp(x - result) is off by up to that much in its exponent (at [1e15, 1e15, 1e15] it gives
# e^-1.125 = 0.32, not 1/3). The gradient is the softmax, which torch.softmax computes stably: the reference there.
for label, dim in [("", None), (", 0", 0), (", 1", 1)]:
    w = weights(() if dim is None else (huge.shape[1 - dim],))
    if dim is None:
        g = w * torch.softmax(huge.flatten(), dim=0).reshape(3, 3)
    else:
        g = w.unsqueeze(dim) * torch.softmax(huge, dim=dim)
    show(f"logsumexp(huge{label}) grad (softmax)", g)
hvp("logsumexp(m)", lambda x: torch.logsumexp(x.flatten(), dim=0), m, weights((3, 4)))

# Products: no zero, one zero, two zeros, and a matrix with one zero; second order at each vector.
for label, x in [("none", [1.5, -2.0, 0.5, 3.0]), ("one", [1.5, 0.0, -0.5, 3.0]), ("two", [0.0, -2.0, 0.0, 3.0])]:
    x = torch.tensor(x)
    value_and_grad(f"prod({label})", lambda x: torch.prod(x), x)
    if label != "two":
        hvp(f"prod({label})", torch.prod, x, weights((4,)) + 1.0)
    else:
        # At two or more zeros PyTorch's gradient of prod is a constant zero (no graph), so its double backward fails;
        # the Hessian is still H[i, j] = prod of the elements other than i and j (i != j), computed here directly.
        n = x.numel()
        h = torch.tensor([[torch.prod(x[[k for k in range(n) if k not in (i, j)]]).item() if i != j else 0.0
                           for j in range(n)] for i in range(n)])
        show(f"prod({label}) hvp (from the Hessian)", h @ (weights((4,)) + 1.0))
value_and_grad("prod(matrix)", lambda x: torch.prod(x), torch.tensor([[1.5, -2.0, 0.5], [0.0, 1.25, -0.75]]))
