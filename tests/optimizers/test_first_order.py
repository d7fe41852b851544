"""First-order rules: PyTorch trajectories, two hand-computed steps each, convergence."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import qvopt
from qvopt.estimation.base import Estimate
from qvopt.optimizers import get_optimizer
from qvopt.optimizers.ask_tell import Reply

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from torch_reference import CASES, DATA, X0, gradient, objective, torch_trajectory  # noqa: E402

STORED = json.loads(DATA.read_text())


def run_rule(name: str, options: dict, steps: int, x0=X0, grad=gradient, value=None):
    """Trajectory of a named optimizer driven through the ask/tell interface."""
    opt = get_optimizer(name, **options)
    state = opt.init(np.array(x0, dtype=float), np.random.default_rng(0))
    path = [opt.params(state).copy()]
    for _ in range(steps):
        x = opt.params(state)
        f = objective(x) if value is None else value(x)
        reply = Reply(value=Estimate(f, 0.0, 0), gradient=Estimate(grad(x), 0.0, 0))
        state = opt.tell(state, reply)
        path.append(opt.params(state).copy())
    return np.array(path)


def qvopt_options(options: dict) -> dict:
    out = dict(options)
    if "betas" in out:
        out["betas"] = tuple(out["betas"])
    if out.pop("amsgrad", False):
        out.pop("amsgrad", None)
    return out


@pytest.mark.parametrize("case", STORED["cases"],
                         ids=[f"{c['torch_class']}-{i}" for i, c in enumerate(STORED["cases"])])
def test_trajectory_equals_stored_pytorch(case):
    path = run_rule(case["name"], qvopt_options(case["options"]), STORED["steps"], STORED["x0"])
    assert np.max(np.abs(path - np.array(case["trajectory"]))) < 1e-10


@pytest.mark.parametrize("name, torch_class, options", CASES)
def test_trajectory_equals_live_pytorch(name, torch_class, options):
    pytest.importorskip("torch")
    expected = np.array(torch_trajectory(torch_class, options))
    path = run_rule(name, qvopt_options(options), len(expected) - 1)
    assert np.max(np.abs(path - expected)) < 1e-10


# ---------------------------------------------------------------- two steps by hand
# f(x) = x² + 3x on one parameter, x0 = 1: g(x) = 2x + 3.
def g(x):
    return np.array([2 * x[0] + 3])


def f(x):
    return float(x[0] ** 2 + 3 * x[0])


def two_steps(name, **options):
    path = run_rule(name, options, 2, x0=[1.0], grad=g, value=f)
    return path[1, 0], path[2, 0]


def test_sgd_two_steps():
    lr = 0.1
    x1 = 1 - lr * 5
    x2 = x1 - lr * (2 * x1 + 3)
    assert two_steps("sgd", lr=lr) == pytest.approx((x1, x2), abs=1e-14)


def test_momentum_two_steps():
    lr, mu, tau = 0.1, 0.9, 0.2
    b1 = 5.0
    x1 = 1 - lr * b1
    b2 = mu * b1 + (1 - tau) * (2 * x1 + 3)
    x2 = x1 - lr * b2
    assert two_steps("momentum", lr=lr, momentum=mu, dampening=tau) == pytest.approx(
        (x1, x2), abs=1e-14)


def test_nesterov_two_steps():
    lr, mu = 0.1, 0.9
    b1 = 5.0
    x1 = 1 - lr * (5 + mu * b1)
    g2 = 2 * x1 + 3
    b2 = mu * b1 + g2
    x2 = x1 - lr * (g2 + mu * b2)
    assert two_steps("nesterov", lr=lr, momentum=mu) == pytest.approx((x1, x2), abs=1e-14)


def test_adagrad_two_steps():
    lr, eps, decay, s0 = 0.5, 1e-10, 0.1, 0.2
    s1 = s0 + 25
    x1 = 1 - lr * 5 / (math.sqrt(s1) + eps)
    g2 = 2 * x1 + 3
    s2 = s1 + g2**2
    x2 = x1 - lr / (1 + decay) * g2 / (math.sqrt(s2) + eps)
    assert two_steps("adagrad", lr=lr, lr_decay=decay, initial_accumulator_value=s0) == \
        pytest.approx((x1, x2), abs=1e-14)


def test_rmsprop_two_steps():
    lr, a, eps = 0.01, 0.9, 1e-8
    v1 = (1 - a) * 25
    x1 = 1 - lr * 5 / (math.sqrt(v1) + eps)
    g2 = 2 * x1 + 3
    v2 = a * v1 + (1 - a) * g2**2
    x2 = x1 - lr * g2 / (math.sqrt(v2) + eps)
    assert two_steps("rmsprop", lr=lr, alpha=a, eps=eps) == pytest.approx((x1, x2), abs=1e-14)


def test_rmsprop_centered_momentum_two_steps():
    lr, a, eps, mu = 0.01, 0.9, 1e-8, 0.5
    v1, m1 = (1 - a) * 25, (1 - a) * 5
    b1 = 5 / (math.sqrt(v1 - m1**2) + eps)
    x1 = 1 - lr * b1
    g2 = 2 * x1 + 3
    v2, m2 = a * v1 + (1 - a) * g2**2, a * m1 + (1 - a) * g2
    b2 = mu * b1 + g2 / (math.sqrt(v2 - m2**2) + eps)
    x2 = x1 - lr * b2
    assert two_steps("rmsprop", lr=lr, alpha=a, eps=eps, centered=True, momentum=mu) == \
        pytest.approx((x1, x2), abs=1e-13)


def adam_by_hand(lr, b1, b2, eps, amsgrad=False, decoupled=0.0):
    x, m, v, vmax, out = 1.0, 0.0, 0.0, 0.0, []
    for t in (1, 2):
        grad = 2 * x + 3
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        vmax = max(vmax, v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        x = x - lr * decoupled * x - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(x)
    return tuple(out)


def test_adam_two_steps():
    assert two_steps("adam", lr=0.1, betas=(0.9, 0.999), eps=1e-8) == pytest.approx(
        adam_by_hand(0.1, 0.9, 0.999, 1e-8), abs=1e-14)


def test_amsgrad_two_steps():
    # b2 = 0.5 and lr = 2.2: x1 = -1.2, g2 = 0.6, so v shrinks after step 1 and the max matters
    expected = adam_by_hand(2.2, 0.9, 0.5, 1e-8, amsgrad=True)
    assert abs(expected[1] - adam_by_hand(2.2, 0.9, 0.5, 1e-8)[1]) > 1e-3
    assert two_steps("amsgrad", lr=2.2, betas=(0.9, 0.5)) == pytest.approx(expected, abs=1e-14)


def test_adamw_two_steps():
    assert two_steps("adamw", lr=0.1, weight_decay=0.3) == pytest.approx(
        adam_by_hand(0.1, 0.9, 0.999, 1e-8, decoupled=0.3), abs=1e-14)


def test_nadam_two_steps():
    lr, b1, b2, eps, psi = 0.1, 0.9, 0.999, 1e-8, 4e-3
    x, m, v, prod, out = 1.0, 0.0, 0.0, 1.0, []
    for t in (1, 2):
        grad = 2 * x + 3
        mu_t = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_n = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu_t
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        denom = math.sqrt(v / (1 - b2**t)) + eps
        x = x - lr * (1 - mu_t) / (1 - prod) * grad / denom \
            - lr * mu_n / (1 - prod * mu_n) * m / denom
        out.append(x)
    assert two_steps("nadam", lr=lr) == pytest.approx(tuple(out), abs=1e-14)


# ---------------------------------------------------------------- convergence
TUNED = {
    "sgd": {"lr": 0.1}, "momentum": {"lr": 0.02, "momentum": 0.9},
    "nesterov": {"lr": 0.02, "momentum": 0.9}, "adagrad": {"lr": 0.5},
    "rmsprop": {"lr": 0.01, "schedule": {"name": "exponential", "gamma": 0.995}},
    "adam": {"lr": 0.05}, "amsgrad": {"lr": 0.05}, "nadam": {"lr": 0.05},
    "adamw": {"lr": 0.05, "weight_decay": 0.0},
}
A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])
B = np.array([1.0, -2.0, 0.5])


@pytest.mark.parametrize("name", sorted(TUNED))
def test_converges_on_convex_quadratic(name):
    result = qvopt.minimize(lambda x: 0.5 * x @ A @ x - B @ x, np.zeros(3),
                            jac=lambda x: A @ x - B, method=name,
                            options={"maxiter": 3000, **TUNED[name]})
    assert np.allclose(result.x, np.linalg.solve(A, B), atol=1e-3)


ROSENBROCK_TUNED = {
    "sgd": {"lr": 1e-3}, "momentum": {"lr": 2e-4, "momentum": 0.9},
    "nesterov": {"lr": 2e-4, "momentum": 0.9}, "adagrad": {"lr": 0.5},
    "rmsprop": {"lr": 0.005, "schedule": {"name": "exponential", "gamma": 0.999}},
    "adam": {"lr": 0.02}, "amsgrad": {"lr": 0.02}, "nadam": {"lr": 0.01},
    "adamw": {"lr": 0.02, "weight_decay": 0.0},
}


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                     200 * (x[1] - x[0] ** 2)])


@pytest.mark.parametrize("name", sorted(ROSENBROCK_TUNED))
def test_converges_on_rosenbrock(name):
    result = qvopt.minimize(rosenbrock, np.array([-1.2, 1.0]), jac=rosenbrock_grad,
                            method=name, options={"maxiter": 20000, **ROSENBROCK_TUNED[name]})
    assert np.allclose(result.x, [1.0, 1.0], atol=2e-2), result.x


# ---------------------------------------------------------------- interface
def test_available_lists_the_family():
    assert {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "nadam",
            "adamw"} <= set(qvopt.optimizers.available())


def test_unknown_optimizer_and_option():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adma'.*adam"):
        get_optimizer("adma")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['learning_rate'\].*'lr'"):
        get_optimizer("adam", learning_rate=0.1)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in"):
        get_optimizer("adam", betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="nesterov momentum requires"):
        get_optimizer("sgd", nesterov=True)


def test_minimize_callback_stop_iteration_and_finite_differences():
    seen = []

    def callback(intermediate):
        seen.append(intermediate.nit)
        if intermediate.nit == 5:
            raise StopIteration

    result = qvopt.minimize(lambda x: float(np.sum((x - 1) ** 2)), np.zeros(2), method="sgd",
                            callback=callback, options={"lr": 0.1, "maxiter": 100})
    assert seen == [1, 2, 3, 4, 5] and result.nit == 5 and result.status == 3
    assert np.allclose(result.x, 1 - 0.8**5, atol=1e-8)  # FD gradient of a quadratic is exact


def test_minimize_rejects_bad_input():
    with pytest.raises(ValueError, match="maxiter"):
        qvopt.minimize(np.sum, np.zeros(2), options={"maxiter": -1})
    with pytest.raises(ValueError, match="x0 must be a finite"):
        qvopt.minimize(np.sum, [np.nan, 0.0])
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['lrr'\]"):
        qvopt.minimize(np.sum, np.zeros(2), options={"lrr": 0.1})
