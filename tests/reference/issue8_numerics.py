"""Reference values for the numerics-at-extremes tests (tests/Core.Tests/Extremes.fs), from PyTorch in float64.

A reference tool only, never a dependency: run it by hand (Debian's python3-torch) and paste the printed literals
into the tests. Every number is printed with repr, which round-trips a double exactly.
"""

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def show(name, t):
    values = t.detach().flatten().tolist() if t.dim() > 0 else [t.item()]
    print(f"{name} = [{'; '.join(repr(v) for v in values)}]")


def value_and_grad(f, x):
    x = x.clone().requires_grad_(True)
    y = f(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    return y, g


# log-sigmoid and its derivative
x = torch.tensor([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
y, g = value_and_grad(F.logsigmoid, x)
show("log_sigmoid(x)", y)
show("log_sigmoid'(x)", g)
