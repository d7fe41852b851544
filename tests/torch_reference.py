"""PyTorch reference trajectories for the first-order optimizers.

Run ``python tests/torch_reference.py`` (needs torch) to regenerate
``tests/data/torch_trajectories.json``. The tests compare qvopt against the stored numbers
always, and against a live PyTorch run when torch is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "torch_trajectories.json"
STEPS = 30
X0 = [0.8, -1.3, 0.4]

# name in qvopt, torch class name, options (PyTorch names; same in qvopt)
CASES = [
    ("adam", "Adam", {"lr": 0.05, "betas": [0.9, 0.99], "eps": 1e-8, "weight_decay": 0.01}),
    ("amsgrad", "Adam", {"lr": 0.05, "betas": [0.8, 0.95], "amsgrad": True}),
    ("adamw", "AdamW", {"lr": 0.05, "betas": [0.9, 0.999], "weight_decay": 0.1}),
    ("nadam", "NAdam", {"lr": 0.03, "betas": [0.9, 0.99], "momentum_decay": 0.004}),
    ("rmsprop", "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}),
    ("rmsprop", "RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True,
                            "weight_decay": 0.05}),
    ("adagrad", "Adagrad", {"lr": 0.2, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("sgd", "SGD", {"lr": 0.05}),
    ("sgd", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    ("sgd", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
]


def objective(x, lib=np):
    """A smooth non-quadratic test function (same formula for numpy and torch)."""
    return (0.5 * (1.5 * x[0] ** 2 + 0.5 * x[1] ** 2 + 2.0 * x[2] ** 2) + 0.3 * x[0] * x[1]
            - 0.7 * x[2] + 0.2 * lib.sin(3.0 * x[0] * x[2]) + 0.1 * lib.cos(x[1]) ** 2)


def gradient(x):
    x0, x1, x2 = x
    c = 0.2 * np.cos(3.0 * x0 * x2) * 3.0
    return np.array([
        1.5 * x0 + 0.3 * x1 + c * x2,
        0.5 * x1 + 0.3 * x0 - 0.2 * np.cos(x1) * np.sin(x1),
        2.0 * x2 - 0.7 + c * x0,
    ])


def torch_trajectory(torch_class: str, options: dict) -> list[list[float]]:
    import torch

    # PyTorch keeps scalar state (step, NAdam's mu_product) in the default dtype: use float64
    # everywhere so the reference is exact to double precision.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _torch_trajectory(torch, torch_class, options)
    finally:
        torch.set_default_dtype(previous)


def _torch_trajectory(torch, torch_class: str, options: dict) -> list[list[float]]:
    x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    opts = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    optimizer = getattr(torch.optim, torch_class)([x], **opts)
    path = [x.detach().numpy().tolist()]
    for _ in range(STEPS):
        optimizer.zero_grad()
        objective(x, torch).backward()
        optimizer.step()
        path.append(x.detach().numpy().tolist())
    return path


def main() -> None:
    import torch

    payload = {"torch_version": torch.__version__, "steps": STEPS, "x0": X0, "cases": []}
    for name, torch_class, options in CASES:
        payload["cases"].append({"name": name, "torch_class": torch_class, "options": options,
                                 "trajectory": torch_trajectory(torch_class, options)})
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {DATA}")


if __name__ == "__main__":
    main()
