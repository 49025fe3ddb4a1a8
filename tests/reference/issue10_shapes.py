"""Reference values for the shape-op tests (tests/Core.Tests/ShapeOps.fs), from PyTorch in float64.

A reference tool only, never a dependency: run it by hand (Debian's python3-torch: /usr/bin/python3) and paste the
printed literals into the tests. Every number is printed with repr, which round-trips a double exactly. Matrices are
printed column by column (the order the tests' T.matrix literals and the library's storage use).
"""

import torch

torch.set_default_dtype(torch.float64)


def show(name, t):
    t = t.detach()
    values = t.t().flatten().tolist() if t.dim() == 2 else t.flatten().tolist() if t.dim() == 1 else [t.item()]
    print(f"{name} {tuple(t.shape)} = [{'; '.join(repr(v) for v in values)}]")


def weights(n):
    # (k mod 7 - 3) / 4 for k = 0 .. n-1: exact in binary, so the tests build the same numbers.
    return torch.tensor([(k % 7 - 3) / 4 for k in range(n)])


x0 = torch.tensor([0.3, -1.2, 0.7, 2.1, -0.4, 1.5])
m0 = torch.tensor([[0.5, -0.25, 1.75, -1.0], [2.0, 0.125, -0.5, 0.75], [-1.5, 1.25, 0.25, -2.0]])


def parts(x, m):
    a = x.reshape(2, 3)                                   # reshape vector(6) -> matrix(2, 3), row-major
    b = torch.cat([a, m[:, 0:3]], dim=0)                  # slice columns 0..2, concat along rows -> (5, 3)
    g = m.index_select(0, torch.tensor([2, 0, 2, 1, 0]))  # gather rows, repeats -> (5, 4)
    d = torch.cat([b, g], dim=1)                          # concat along columns -> (5, 7)
    s0 = torch.stack([m[1, :], x[0:4]], dim=0)            # row 1, slice of a vector, stack as rows -> (2, 4)
    s1 = torch.stack([m[:, 3], x[3:6]], dim=1)            # column 3, stack as columns -> (3, 2)
    v = torch.cat([x.index_select(0, torch.tensor([5, 5, 1])), torch.flatten(m[0, 0])])  # gather, flatten a 0-d -> (4,)
    r = m.reshape(4, 3)                                   # matrix -> matrix, row-major
    return d, s0, s1, v, r


def f(x, m):
    d, s0, s1, v, r = parts(x, m)
    return ((torch.sin(d) * weights(35).reshape(5, 7)).sum()
            + (torch.tanh(s0.flatten()) * weights(8)).sum()
            + (torch.exp(0.3 * s1) * weights(6).reshape(3, 2)).sum()
            + (torch.cos(v) * weights(4)).sum()
            + (r * r * weights(12).reshape(4, 3)).sum())


x = x0.clone().requires_grad_(True)
m = m0.clone().requires_grad_(True)
d, s0, s1, v, r = parts(x, m)
show("d", d)
show("s0", s0)
show("s1", s1)
show("v", v)
show("r", r)
y = f(x, m)
gx, gm = torch.autograd.grad(y, (x, m))
show("f", y)
show("df/dx", gx)
show("df/dm", gm)
