"""SciPy-driven methods: convergence, bounded work on noisy functions, callbacks."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                     200 * (x[1] - x[0] ** 2)])


def test_lbfgs_on_rosenbrock():
    r = qvopt.minimize(rosenbrock, [-1.2, 1.0], jac=rosenbrock_grad, method="lbfgs",
                       options={"maxiter": 200})
    assert r.success and np.allclose(r.x, [1, 1], atol=1e-4)
    assert r.njev > 0 and r.nit <= 200


@pytest.mark.parametrize("method, options", [
    ("cobyla", {"rhobeg": 0.5}), ("nelder-mead", {"initial_step": 0.5}), ("powell", {}),
])
def test_gradient_free_on_quadratic(method, options):
    center = np.array([0.3, -0.7, 1.1])
    r = qvopt.minimize(lambda x: float(np.sum((x - center) ** 2)), np.zeros(3), method=method,
                       options={"maxiter": 2000, **options})
    assert np.allclose(r.x, center, atol=1e-3)


def test_lbfgs_on_a_noisy_function_stops_with_bounded_work():
    rng = np.random.default_rng(0)

    def noisy(x):
        return rosenbrock(x) + 0.01 * rng.normal()

    def noisy_grad(x):
        return rosenbrock_grad(x) + 0.1 * rng.normal(size=2)

    r = qvopt.minimize(noisy, [-1.2, 1.0], jac=noisy_grad, method="lbfgs",
                       options={"maxiter": 50})
    assert r.nit <= 50 and r.nfev <= 50 * 20 + 1
    assert isinstance(r.message, str) and r.message.startswith("L-BFGS-B:")


def test_scipy_method_callback_can_stop():
    seen = []

    def callback(intermediate):
        seen.append(intermediate.nit)
        if intermediate.nit == 3:
            raise StopIteration

    r = qvopt.minimize(rosenbrock, [-1.2, 1.0], jac=rosenbrock_grad, method="lbfgs",
                       callback=callback, options={"maxiter": 100})
    assert seen == [1, 2, 3] and r.status == 3 and r.nit == 3


def test_unknown_scipy_option():
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['rho'\] for optimizer 'cobyla'"):
        qvopt.minimize(np.sum, np.zeros(2), method="cobyla", options={"rho": 1})
