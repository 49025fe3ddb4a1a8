"""Reference values for the linear-algebra tests (tests/Core.Tests/LinearAlgebra.fs), from PyTorch in float64.

A reference tool only, never a dependency: run it by hand (Debian's python3-torch: /usr/bin/python3) and paste the
printed literals into the tests. Every number is printed with repr, which round-trips a double exactly. Matrices are
printed column by column, as the tests (and Value's storage) list them.
"""

import torch

torch.set_default_dtype(torch.float64)


def show(name, t):
    t = t.detach()
    values = t.t().flatten().tolist() if t.dim() == 2 else t.flatten().tolist() if t.dim() == 1 else [t.item()]
    print(f"{name} = [{'; '.join(repr(v) for v in values)}]")


def grads(f, *xs):
    """f(*xs) and the gradients of its sum with respect to every x."""
    xs = [x.clone().requires_grad_(True) for x in xs]
    y = f(*xs)
    return (y, *torch.autograd.grad(y.sum(), xs))


def second(f, x, v):
    """The gradient of <grad f(x), v> with respect to x: H v for the scalar function f."""
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (h,) = torch.autograd.grad((g * v).sum(), x)
    return h


# The fixed inputs (rows as written).
A = torch.tensor([[4.0, 1.0, 2.0], [0.5, 3.0, -1.0], [1.0, -2.0, 5.0]])   # det > 0
N = A[[1, 0, 2]]                                                           # rows 0 and 1 swapped: det < 0
S = torch.tensor([[4.0, 2.0, 0.6], [2.0, 5.0, 1.5], [0.6, 1.5, 3.0]])     # symmetric positive definite
W = torch.tensor([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5], [-0.8, 0.9, 0.2]])   # a cotangent
b = torch.tensor([1.0, -2.0, 0.5])
w = torch.tensor([0.7, -0.3, 1.9])
B = torch.tensor([[1.0, 0.0], [-2.0, 1.5], [0.5, -1.0]])
V = torch.tensor([[0.2, -0.6], [1.3, 0.8], [-0.4, 0.5]])
v = torch.tensor([2.0, -1.0, 0.5])

y, gA = grads(lambda A: torch.linalg.inv(A) * W, A)
show("inverse(A)", torch.linalg.inv(A))
show("grad sum(inverse(A) * W)", gA)

y, gA, gb = grads(lambda A, b: torch.linalg.solve(A, b) * w, A, b)
show("solve(A, b)", torch.linalg.solve(A, b))
show("grad_A sum(solve(A, b) * w)", gA)
show("grad_b sum(solve(A, b) * w)", gb)

y, gA, gB = grads(lambda A, B: torch.linalg.solve(A, B) * V, A, B)
show("solve(A, B)", torch.linalg.solve(A, B))
show("grad_A sum(solve(A, B) * V)", gA)
show("grad_B sum(solve(A, B) * V)", gB)

y, gA = grads(torch.linalg.det, A)
show("det(A)", y)
show("grad det(A)", gA)
y, gN = grads(torch.linalg.det, N)
show("det(N)", y)
show("grad det(N)", gN)

y, gA = grads(torch.logdet, A)
show("logdet(A)", y)
show("grad logdet(A)", gA)
show("hvp logdet(A) W", second(torch.logdet, A, W))
y, gS = grads(torch.logdet, S)
show("logdet(S)", y)
show("grad logdet(S)", gS)
print(f"(torch's own logdet(N) = {torch.logdet(N).item()!r}, slogdet(N) = {tuple(t.item() for t in torch.linalg.slogdet(N))!r})")


def chol(S):
    # The factor of the symmetric part, as the library (and JAX) define it; the same as torch's on a symmetric S.
    return torch.linalg.cholesky((S + S.t()) / 2)


y, gS = grads(lambda S: chol(S) * W, S)
show("cholesky(S)", chol(S))
show("grad sum(cholesky(S) * W)", gS)
_, g_torch = grads(lambda S: torch.linalg.cholesky(S) * W, S)
print(f"(torch's own cholesky gradient is the same: {torch.allclose(g_torch, gS, rtol=0, atol=1e-15)})")
show("hvp sum(cholesky(S) * W) in direction A", second(lambda S: (chol(S) * W).sum(), S, A))

y, gA = grads(torch.trace, A)
show("trace(A)", y)
show("grad trace(A)", gA)

y, gv = grads(lambda v: torch.diag(v) * W, v)
show("diag(v)", torch.diag(v))
show("grad_v sum(diag(v) * W)", gv)
y, gA = grads(lambda A: torch.diag(A) * w, A)
show("diag(A)", torch.diag(A))
show("grad_A sum(diag(A) * w)", gA)
R = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
y, gR = grads(lambda R: torch.diagonal(R) * torch.tensor([0.5, -1.5]), R)
show("diagonal(R)", torch.diagonal(R))
show("grad_R sum(diagonal(R) * [0.5, -1.5])", gR)

for k in [0, 1, 2, 3, 5]:
    y, gA = grads(lambda A: torch.linalg.matrix_power(A, k) * W, A)
    show(f"matrix_power(A, {k})", torch.linalg.matrix_power(A, k))
    show(f"grad sum(matrix_power(A, {k}) * W)", gA)
