"""Reference values for the optimizer tests (tests/Core.Tests/Optimizers.fs), from torch.optim in float64.

A reference tool only, never a dependency: run it by hand (Debian's python3-torch, /usr/bin/python3) and paste the
printed F# literals into the tests. Every number is printed with repr, which round-trips a double exactly.

Two problems, each with parameters w (vector(3)) and b (scalar):
  quadratic:  f(w, b) = 1/2 wᵀAw − cᵀw + 1/2 b² − b
  logistic:   f(w, b) = mean(bce_with_logits(Xw + b, y)) on fixed 8×3 data
For every optimizer setting, 5 steps from w0, b0; the parameters after every step are printed as [w0; w1; w2; b].
"""

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

A = torch.tensor([[3.0, 0.5, -0.25], [0.5, 2.0, 0.75], [-0.25, 0.75, 1.5]])
C = torch.tensor([1.0, -2.0, 0.5])
X = torch.tensor([
    [0.5, -1.25, 2.0],
    [1.5, 0.25, -0.75],
    [-0.5, 1.0, 0.5],
    [2.0, -0.5, -1.5],
    [-1.75, 0.75, 1.25],
    [0.25, 2.25, -0.25],
    [1.0, -1.5, 0.75],
    [-1.25, -0.25, -1.0],
])
Y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
W0 = [0.5, -0.25, 1.0]
B0 = 0.75


def quadratic(w, b):
    return 0.5 * (w @ (A @ w)) - C @ w + 0.5 * b * b - b


def logistic(w, b):
    return F.binary_cross_entropy_with_logits(X @ w + b, Y)


SETTINGS = [
    ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("sgd weight_decay", lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.05)),
    ("sgd momentum dampening", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1)),
    ("sgd nesterov weight_decay", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("adam", lambda ps: torch.optim.Adam(ps, lr=0.1)),
    ("adam betas weight_decay amsgrad", lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True)),
    ("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.1)),
    ("adamw weight_decay amsgrad", lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1, amsgrad=True)),
    ("rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=0.01)),
    ("rmsprop centered momentum weight_decay", lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("adagrad", lambda ps: torch.optim.Adagrad(ps, lr=0.1)),
    ("adagrad lr_decay weight_decay initial_accumulator_value", lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
]


def run(make, f):
    w = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    opt = make([w, b])
    out = []
    for _ in range(5):
        opt.zero_grad()
        f(w, b).backward()
        opt.step()
        out.append(w.detach().tolist() + [b.item()])
    return out


def literal(rows):
    return "[ " + "\n              ".join("[ " + "; ".join(repr(v) for v in row) + " ]" for row in rows) + " ]"


print("let expected =")
print("    [")
for name, make in SETTINGS:
    for problem, f in [("quadratic", quadratic), ("logistic", logistic)]:
        print(f'        ("{name}", "{problem}"),')
        print(f"            {literal(run(make, f))}")
print("    ]")

# Learning-rate schedules: the rate of epochs 0..7 for base lr 0.1, stepping the scheduler after every epoch.
def rates(make):
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    sched = make(opt)
    out = []
    for _ in range(8):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


S = torch.optim.lr_scheduler
print("let schedules =")
print("    [")
for name, make in [
    ("StepLR(step_size=3, gamma=0.5)", lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    ("CosineAnnealingLR(T_max=5, eta_min=0.01)", lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.01)),
    ("LinearLR(start_factor=0.25, total_iters=4)", lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4)),
]:
    print(f'        "{name}", [ {"; ".join(repr(v) for v in rates(make))} ]')
print("    ]")
