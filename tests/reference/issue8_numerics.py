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


# softmax and log-softmax of huge equal logits
x = torch.tensor([1e15, 1e15])
show("softmax([1e15, 1e15])", F.softmax(x, dim=-1))
show("log_softmax([1e15, 1e15])", F.log_softmax(x, dim=-1))

# cross-entropy at logits around 1e13: one example (a vector and a scalar class) ...
z = torch.tensor([1e13, 1e13 + 1, 1e13 - 2])
y, g = value_and_grad(lambda z: F.cross_entropy(z.unsqueeze(0), torch.tensor([0])), z)
show("ce(vector ~1e13, class 0)", y)
show("ce(vector ~1e13, class 0) grad", g)

# ... and a batch of two rows (row-major here; the tests list matrices column by column)
Z = torch.tensor([[1e13, 1e13 + 1, 1e13 - 2], [-1e13, -1e13 + 0.5, -1e13 - 3]])
y, g = value_and_grad(lambda Z: F.cross_entropy(Z, torch.tensor([0, 2])), Z)
show("ce(matrix ~1e13, classes [0, 2])", y)
show("ce(matrix ~1e13, classes [0, 2]) grad (column-major)", g.t())

# binary cross-entropy with logits where log(1 + e^-|z|) is tiny. PyTorch 1.13's own
# binary_cross_entropy_with_logits rounds that term to 0 (it prints 0.0 at z = -40, t = 0), so the reference is the
# same loss written term by term with log1p, max(z, 0) - z t + log1p(e^-|z|).
def bce(z, t):
    return (z.clamp(min=0) - z * t + torch.log1p(torch.exp(-z.abs()))).mean()


print(f"(torch's own bce(z=-40, t=0) = {F.binary_cross_entropy_with_logits(torch.tensor(-40.0), torch.tensor(0.0)).item()!r})")
show("bce(z=-40, t=0)", bce(torch.tensor(-40.0), torch.tensor(0.0)))
z = torch.tensor([-40.0, 40.0, -30.0])
t = torch.tensor([0.0, 1.0, 0.0])
y, g = value_and_grad(lambda z: bce(z, t), z)
show("bce([-40, 40, -30], [0, 1, 0])", y)
show("bce([-40, 40, -30], [0, 1, 0]) grad", g)

# log-sigmoid and its derivative
x = torch.tensor([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
y, g = value_and_grad(F.logsigmoid, x)
show("log_sigmoid(x)", y)
show("log_sigmoid'(x)", g)
