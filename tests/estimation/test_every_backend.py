"""The generic estimator suite, run on every backend of the ``backend`` fixture."""

from __future__ import annotations

import numpy as np
import pytest

from qvopt.errors import InputError
from qvopt.estimation import Request, Sampler


def test_sampler_protocol(backend, shared_estimator):
    est = shared_estimator
    assert isinstance(est.sampler, Sampler)
    assert est.backend_name == backend.name
    expected = {"auto": "sector" if backend.name == "statevector" else "aer"}
    assert est.engine_name == expected.get(backend.engine, backend.engine)


def test_energy_unbiased_and_stderr_calibrated(backend):
    """50 independent estimates of E(θ): mean within 4 stderr of the exact value (noiseless
    backends), spread equal to the reported stderr within 30 %. Not on noisy devices."""
    if not backend.unbiased:
        pytest.skip("a noisy device is biased; its shot noise is checked on aer")
    est = backend.estimator(shots=1000, seed=11)
    batch = est.energy(np.tile(backend.theta, (50, 1)))
    assert batch.value.shape == batch.stderr.shape == (50,)
    spread = batch.value.std(ddof=1)
    assert spread == pytest.approx(np.sqrt(np.mean(batch.stderr**2)), rel=0.3)
    exact = est.exact_energy(backend.theta)
    assert abs(batch.value.mean() - exact) < 4 * spread / np.sqrt(50)


def requests(backend, theta):
    shifted = theta + np.array([[0.1, 0.0, 0.0], [0.0, -0.2, 0.1]])
    kinds = {
        "nothing": Request(),
        "energies": Request(energies=shifted),
        "gradient": Request(gradient=theta),
        "gradient_shots": Request(gradient=theta, gradient_shots=np.array([40, 80, 40])),
        "energies+gradient": Request(energies=shifted, gradient=theta),
    }
    if backend.has_metric:
        kinds |= {"metric_full": Request(metric=theta),
                  "metric_block": Request(metric=theta, metric_approx="block-diag"),
                  "metric_diag": Request(metric=theta, metric_approx="diag"),
                  "fidelities": Request(fidelities=shifted),
                  "everything": Request(energies=shifted, gradient=theta,
                                        gradient_shots=np.array([20, 200, 60]),
                                        metric=theta, fidelities=shifted)}
    return kinds


@pytest.mark.parametrize("allocation", [None, "variance"])
def test_cost_equals_ledger_increase_of_answer(backend, allocation):
    if allocation is not None and not backend.unbiased:
        pytest.skip("allocation is backend-independent; checked on statevector and aer")
    est = backend.estimator(shots=100 if allocation is None else 400, allocation=allocation)
    for kind, request in requests(backend, backend.theta).items():
        before = est.shots_used
        predicted = est.cost(request)
        reply = est.answer(backend.theta, request)
        assert est.shots_used - before == predicted, kind
        parts = [reply.value, reply.energies, reply.gradient, reply.metric, reply.fidelities]
        assert sum(p.shots for p in parts if p is not None) == predicted, kind


def test_answer_shapes_and_single_sampler_call(backend):
    est = backend.estimator(seed=3)
    calls = []
    sample = est.sampler.sample
    est.sampler.sample = lambda *args: calls.append(1) or sample(*args)
    theta = backend.theta
    reply = est.answer(theta, Request(energies=np.tile(theta, (2, 1)), gradient=theta))
    assert len(calls) == 1
    assert isinstance(reply.value.value, float)
    assert reply.energies.value.shape == (2,) and reply.gradient.value.shape == (3,)
    assert reply.gradient.shots == 12 * est.shots_per_evaluation  # four-term rule, 3 params


def test_same_seed_same_estimates(backend):
    theta = backend.theta
    request = Request(energies=theta[None], gradient=theta)
    first, second = backend.estimator(seed=21), backend.estimator(seed=21)
    a, b = first.answer(theta, request), second.answer(theta, request)
    assert a.value == b.value and np.array_equal(a.gradient.value, b.gradient.value)
    first.reseed(22)
    assert first.answer(theta, request).value.value != second.answer(theta, request).value.value


@pytest.mark.parametrize("bad, message", [
    (np.array([0.1, 0.2, 0.3]) + 0j, r"theta must be real.*complex"),
    (np.array([0.1 + 1e-3j, 0.2, 0.3]), r"theta must be real.*complex"),
    ([0.1, np.nan, 0.0], "theta contains NaN or infinite"),
    ([0.1, np.inf, 0.0], "theta contains NaN or infinite"),
    ([0.1, 0.2], r"theta must have shape \(3,\) or \(batch, 3\).*got shape \(2,\)"),
    (np.zeros((2, 2, 3)), r"got shape \(2, 2, 3\)"),
    (np.zeros((0, 3)), r"got shape \(0, 3\)"),
    (["a", "b", "c"], "theta must be numeric"),
])
def test_check_points_errors(shared_estimator, bad, message):
    est = shared_estimator
    before = est.shots_used
    with pytest.raises(InputError, match=message):
        est.check_points(bad)
    with pytest.raises(InputError, match=message):
        est.energy(bad)
    assert est.shots_used == before


def test_check_points_accepts_one_point_or_a_batch(shared_estimator):
    est = shared_estimator
    points, single = est.check_points([0, 1, 2])
    assert single and points.shape == (1, 3) and points.dtype == float
    points, single = est.check_points(np.ones((4, 3), dtype=np.float32))
    assert not single and points.shape == (4, 3) and points.dtype == float


def test_sample_groups_charges_one_execution_per_group(backend):
    est = backend.estimator(shots=100, seed=5)
    n_groups = est.grouped.n_groups
    shots = np.arange(1, n_groups + 1) * 40
    moments = est.sample_groups(backend.theta, shots)
    assert moments.means.shape == moments.variances.shape == (1, n_groups)
    assert np.array_equal(moments.shots[0], shots)
    assert est.ledger.executions == n_groups and est.shots_used == shots.sum()
    value, variance = moments.energies()
    assert np.isfinite(value[0]) and variance[0] > 0
    if backend.unbiased:
        assert abs(value[0] - est.exact_energy(backend.theta)) < 6 * np.sqrt(variance[0])
