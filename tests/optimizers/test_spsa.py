"""SPSA family: perturbations and gains match the formulas, calibration, blocking, 2-SPSA,
QN-SPSA."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.estimation.base import Estimate
from qvopt.optimizers import get_optimizer
from qvopt.optimizers.ask_tell import Reply
from qvopt.optimizers.spsa import rademacher, spsa_gains


def answer(request, fun, x, fidelity=None):
    energies = None
    if request.energies is not None:
        values = np.array([fun(p) for p in request.energies])
        energies = Estimate(values, np.zeros_like(values), 0)
    fids = None
    if request.fidelities is not None:
        values = np.array([fidelity(x, p) for p in request.fidelities])
        fids = Estimate(values, np.zeros_like(values), 0)
    return Reply(value=Estimate(fun(x), 0.0, 0), energies=energies, fidelities=fids)


def test_gains_formula():
    a_k, c_k = spsa_gains(0.5, 0.2, 10, 0.602, 0.101, 4)
    assert a_k == pytest.approx(0.5 / 15**0.602) and c_k == pytest.approx(0.2 / 5**0.101)


def test_perturbations_and_step_match_formulas_with_fixed_seed():
    fun = lambda x: float(np.sum(x**2) + x[0])  # noqa: E731
    opt = get_optimizer("spsa", a=0.3, c=0.15, A=2.0, resamplings=2)
    state = opt.init(np.array([0.5, -0.2, 0.1]), np.random.default_rng(99))
    expected_rng = np.random.default_rng(99)
    for k in range(3):
        x = opt.params(state)
        deltas = rademacher(expected_rng, (2, 3))
        a_k, c_k = 0.3 / (2.0 + k + 1) ** 0.602, 0.15 / (k + 1) ** 0.101
        request = opt.ask(state)
        assert np.allclose(request.energies, np.concatenate([x + c_k * deltas, x - c_k * deltas]))
        assert np.array_equal(opt.ask(state).energies, request.energies)  # ask is pure
        state = opt.tell(state, answer(request, fun, x))
        plus = np.array([fun(x + c_k * d) for d in deltas])
        minus = np.array([fun(x - c_k * d) for d in deltas])
        grad = np.mean(((plus - minus) / (2 * c_k))[:, None] * deltas, axis=0)
        assert np.allclose(opt.params(state), x - a_k * grad, atol=1e-14)


def test_calibration_reproduces_target_first_step():
    fun = lambda x: float(3.0 * x[0])  # noqa: E731  |ĝ_i| = 3 for every Δ
    opt = get_optimizer("spsa", target_step=0.07, A=5.0, calibration_steps=8)
    state = opt.init(np.zeros(4), np.random.default_rng(1))
    state = opt.tell(state, answer(opt.ask(state), fun, np.zeros(4)))  # calibration round
    assert state.a == pytest.approx(0.07 * 6**0.602 / 3.0)
    x0 = opt.params(state)
    state = opt.tell(state, answer(opt.ask(state), fun, x0))
    assert np.allclose(np.abs(opt.params(state) - x0), 0.07)


def test_blocking_rejects_steps_that_raise_the_energy():
    fun = lambda x: float(np.sum(x**2))  # noqa: E731
    opt = get_optimizer("spsa", a=50.0, c=0.1, blocking=True, allowed_increase=0.0)
    state = opt.init(np.array([0.3, 0.3]), np.random.default_rng(0))
    x0 = opt.params(state)
    state = opt.tell(state, answer(opt.ask(state), fun, x0))
    assert state.phase == "check"
    request = opt.ask(state)
    assert np.array_equal(request.energies[0], state.candidate)
    state = opt.tell(state, answer(request, fun, x0))
    assert state.rejected == 1 and np.array_equal(opt.params(state), x0)
    # a small step is accepted
    opt = get_optimizer("spsa", a=0.01, c=0.1, blocking=True)
    state = opt.init(np.array([0.3, 0.3]), np.random.default_rng(0))
    for _ in range(2):
        state = opt.tell(state, answer(opt.ask(state), fun, opt.params(state)))
    assert state.accepted == 1 and fun(opt.params(state)) < fun(x0)


def test_blocking_tolerance_comes_from_the_noise():
    opt = get_optimizer("spsa", a=0.1, blocking=True)
    state = opt.init(np.zeros(2), np.random.default_rng(0))._replace(
        phase="check", candidate=np.ones(2))
    worse_within_noise = Reply(value=Estimate(1.0, 0.03, 0),
                               energies=Estimate(np.array([1.05]), np.array([0.04]), 0))
    assert opt.tell(state, worse_within_noise).accepted == 1  # 0.05 < 2·0.05
    worse_beyond = Reply(value=Estimate(1.0, 0.03, 0),
                         energies=Estimate(np.array([1.2]), np.array([0.04]), 0))
    assert opt.tell(state, worse_beyond).rejected == 1


def per_step_estimates(opt, state, steps, fun, x_of, fidelity=None):
    """Run ``steps`` rounds; recover each step's estimate from the running average."""
    estimates, previous = [], None
    for k in range(steps):
        state = opt.tell(state, answer(opt.ask(state), fun, x_of(state), fidelity))
        estimates.append(state.curvature if previous is None
                         else (k + 1) * state.curvature - k * previous)
        previous = state.curvature
    return np.array(estimates)


def assert_mean_within_4_standard_errors(samples, expected):
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    assert np.all(np.abs(mean - expected) <= 4 * se + 1e-12), (mean, expected, se)


def test_2spsa_hessian_estimate_is_unbiased_on_a_quadratic():
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
    fun = lambda x: float(0.5 * x @ A @ x)  # noqa: E731
    opt = get_optimizer("2spsa", a=1e-9, c=0.1, resamplings=1)
    state = opt.init(np.array([0.2, 0.1, -0.3]), np.random.default_rng(5))
    samples = per_step_estimates(opt, state, 1000, fun, opt.params)
    assert_mean_within_4_standard_errors(samples, A)
    assert np.allclose(samples.mean(axis=0), A, atol=0.5)


def test_qnspsa_metric_estimate_averages_to_the_metric(h2):
    circuit = qvopt.ansatz.uccsd(h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit)
    theta = np.array([0.3, -0.4, 0.2])
    exact = est.metric(theta).value
    opt = get_optimizer("qnspsa", a=1e-9, c=0.01)
    state = opt.init(theta, np.random.default_rng(2))

    def fidelity(x, y):
        return est.fidelity(x, y).value

    samples = per_step_estimates(opt, state, 300, lambda p: est.energy(p).value,
                                 lambda s: theta, fidelity)
    assert_mean_within_4_standard_errors(samples, exact)
    assert np.allclose(samples.mean(axis=0), exact, atol=0.1)


def test_spsa_option_errors():
    with pytest.raises(ValueError, match="resamplings must be a positive integer"):
        get_optimizer("spsa", resamplings=0)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['second_order'\]"):
        get_optimizer("spsa", second_order="2spsa")
    with pytest.raises(ValueError, match="c must be > 0"):
        get_optimizer("spsa", c=0)
