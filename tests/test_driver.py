"""The one driver loop: SciPy exits mapped explicitly, gtol/budget/backend for every method."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.driver import Status


def quadratic(x):
    return float(np.sum((x - 1.0) ** 2))


def test_lbfgs_abnormal_line_search_is_a_failure():
    # a gradient that points uphill: every line search fails → SciPy status 2, success False
    r = qvopt.minimize(quadratic, np.zeros(3), jac=lambda x: -2 * (x - 1.0), method="lbfgs",
                       options={"maxiter": 50})
    assert "ABNORMAL" in r.message
    assert r.status == Status.FAILED and r.success is False


def test_lbfgs_convergence_and_limit_are_mapped():
    ok = qvopt.minimize(quadratic, np.zeros(3), jac=lambda x: 2 * (x - 1.0), method="lbfgs")
    assert ok.status == Status.CONVERGED and ok.success
    rosen = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # noqa: E731
    limited = qvopt.minimize(rosen, [-1.2, 1.0], method="lbfgs", options={"maxiter": 2})
    assert limited.status == Status.MAXITER and limited.success and limited.nit == 2


@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_gtol_stops_every_kind_of_method(method):
    r = qvopt.minimize(quadratic, np.zeros(3), jac=lambda x: 2 * (x - 1.0), method=method,
                       options={"maxiter": 500, "gtol": 10.0})
    assert r.status == Status.CONVERGED and r.nit == 1 and "gtol" in r.message


def test_vqe_passes_gtol_and_budget_to_scipy_methods(h2):
    r = qvopt.vqe(h2, optimizer="lbfgs", shots=None, maxiter=50, gtol=1.0)
    assert r.status == Status.CONVERGED and r.nit == 1
    budget = 200_000
    b = qvopt.vqe(h2, optimizer="cobyla", shots=1000, allocation=None, initial_point="hf",
                  seed=1, maxiter=500, shot_budget=budget)
    assert b.status == Status.BUDGET and b.success and b.shots_used <= budget


def test_backend_failure_inside_scipy_is_a_clean_stop(h2):
    from qiskit_aer.primitives import SamplerV2

    class DiesAfterTwo:
        name = "dies"

        def __init__(self):
            self.calls, self.inner = 0, SamplerV2(seed=5)

        def run(self, pubs, shots=None):
            self.calls += 1
            if self.calls > 2:
                raise TimeoutError("queue timeout")
            return self.inner.run(pubs, shots=shots)

    r = qvopt.vqe(h2, optimizer="cobyla", shots=200, seed=1, maxiter=20,
                  backend=DiesAfterTwo(), backend_options={"max_retries": 1, "retry_delay": 0})
    assert r.status == Status.BACKEND and not r.success and "queue timeout" in r.message
    assert np.isfinite(r.fun) and r.fun == r.history[-1]["energy"]


def test_callback_halts_the_same_way_for_every_method(h2):
    for optimizer in ("adam", "lbfgs", "spsa"):
        seen = []

        def callback(intermediate, seen=seen):
            seen.append(intermediate.nit)
            return intermediate.nit >= 2

        r = qvopt.vqe(h2, optimizer=optimizer, shots=None, seed=0, maxiter=30,
                      callback=callback)
        assert seen == [1, 2] and r.status == Status.CALLBACK and r.nit == 2, optimizer


def test_result_json_holds_the_whole_configuration(h2):
    r = qvopt.vqe(h2, seed=2, maxiter=2, shot_budget=10**9, device="cpu",
                  backend_options=None)
    config = r.to_dict()["config"]
    assert config["maxiter"] == 2 and config["shot_budget"] == 10**9
    assert config["device"] == "CPU" and config["backend_options"] == {}
    assert qvopt.RunConfig.from_dict(config).maxiter == 2
    assert r.to_dict()["status"] == 1 and isinstance(r.to_dict()["status"], int)


@pytest.mark.parametrize("x0", [np.array([1 + 2j, 0.0]), [np.nan, 0.0], [[0.0, 1.0]], 3.0])
def test_minimize_rejects_complex_nan_and_bad_shapes(x0):
    with pytest.raises(qvopt.InputError, match="x0 must be a finite real 1-D array"):
        qvopt.minimize(quadratic, x0)


def test_vqe_rejects_complex_initial_points(h2):
    with pytest.raises(qvopt.InputError, match="initial_point"):
        qvopt.vqe(h2, initial_point=np.array([0.1 + 1j, 0.0, 0.0]))


@pytest.mark.parametrize("optimizer", ["lbfgs", "cobyla", "nelder-mead", "powell", "adam"])
@pytest.mark.parametrize("maxiter", [0, 1, 3])
def test_every_method_does_exactly_maxiter_updates(h2, optimizer, maxiter):
    r = qvopt.vqe(h2, optimizer=optimizer, shots=None, maxiter=maxiter)
    iterations = [h["iteration"] for h in r.history]
    assert iterations == list(range(len(iterations))), iterations  # no duplicates
    if r.status == Status.MAXITER:
        assert r.nit == maxiter
    else:  # a SciPy method may converge first, never run past maxiter
        assert r.nit <= maxiter and r.status == Status.CONVERGED
    if maxiter == 0:
        assert r.nit == 0 and len(r.history) == 1


def test_callback_sees_the_energy_of_the_point_it_was_measured_at():
    seen = []
    qvopt.minimize(quadratic, np.zeros(2), jac=lambda x: 2 * (x - 1.0), method="sgd",
                   callback=seen.append, options={"maxiter": 2, "lr": 0.1})
    for intermediate in seen:
        assert intermediate.fun == quadratic(intermediate.evaluated_x)
        assert not np.array_equal(intermediate.x, intermediate.evaluated_x)


def test_budget_below_one_evaluation_is_refused(h2):
    with pytest.raises(qvopt.InputError, match="shot_budget"):
        qvopt.vqe(h2, shots=1000, shot_budget=10)


def test_resumed_converged_run_stays_converged(h2, tmp_path):
    ck = tmp_path / "g.ckpt"
    first = qvopt.vqe(h2, seed=1, maxiter=40, gtol=0.05, shots=None, checkpoint=ck)
    assert first.status == Status.CONVERGED
    again = qvopt.resume(ck)
    assert again.nit == first.nit and again.status == Status.CONVERGED


@pytest.mark.parametrize("options, name", [
    ({"gtol": "abc"}, "gtol"), ({"gtol": -1}, "gtol"), ({"eps": 0}, "eps"),
    ({"eps": "a"}, "eps"), ({"seed": -1}, "seed"), ({"seed": "x"}, "seed"),
])
def test_minimize_checks_its_own_options(options, name):
    with pytest.raises(qvopt.InputError, match=name):
        qvopt.minimize(quadratic, np.zeros(2), options=options)
