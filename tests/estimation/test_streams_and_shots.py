"""Random streams per purpose, JSON random state, per-parameter gradient shots, shot limits."""

from __future__ import annotations

import json

import numpy as np
import pytest

import qvopt
from qvopt.errors import CheckpointError, InputError
from qvopt.estimation import Request
from qvopt.estimation.base import MAX_SHOTS, validate_shots
from qvopt.estimation.sampling import reduce_counts, sample_class_means

THETA = np.array([0.2, -0.1, 0.05])


def make(h2, h2_uccsd, **kwargs):
    kwargs = {"shots": 500, "seed": 7, **kwargs}
    return qvopt.Estimator(h2.hamiltonian, h2_uccsd, **kwargs)


@pytest.mark.parametrize("interleave", ["metric", "metric_full", "fidelity"])
def test_metric_and_fidelity_calls_do_not_change_the_energies(h2, h2_uccsd, interleave):
    plain, mixed = make(h2, h2_uccsd), make(h2, h2_uccsd)
    for step in range(3):
        if interleave == "fidelity":
            mixed.fidelity(THETA, THETA + 0.1)
        else:
            mixed.metric(THETA, approx=None if interleave == "metric_full" else "block-diag")
        a, b = plain.value_and_gradient(THETA), mixed.value_and_gradient(THETA)
        assert a[0] == b[0] and np.array_equal(a[1].value, b[1].value), step


@pytest.mark.parametrize("allocation", [None, "variance"])
def test_random_state_round_trips_through_json(h2, h2_uccsd, allocation):
    est = make(h2, h2_uccsd, shots=2000, allocation=allocation)
    est.energy(THETA)  # the allocation learns
    saved = json.loads(json.dumps(est.random_state()))

    def run(e):
        return (e.value_and_gradient(THETA), e.metric(THETA, "diag").value,
                e.fidelity(THETA, THETA + 0.2).value, e.group_shots().tolist())

    first = run(est)
    est.energy(np.tile(THETA, (3, 1)))  # move every learned quantity on
    est.metric(THETA)
    est.set_random_state(saved)
    again = run(est)
    assert first[0][0] == again[0][0] and np.array_equal(first[0][1].value, again[0][1].value)
    assert np.array_equal(first[1], again[1]) and first[2] == again[2]
    assert first[3] == again[3]
    # a fresh estimator restored from the saved state continues identically
    fresh = make(h2, h2_uccsd, shots=2000, allocation=allocation, seed=999)
    fresh.set_random_state(saved)
    assert run(fresh)[0][0] == first[0][0]


def test_random_state_errors(h2, h2_uccsd):
    est = make(h2, h2_uccsd)
    state = est.random_state()
    with pytest.raises(CheckpointError, match="streams"):
        est.set_random_state({"streams": {"energy": state["streams"]["energy"]},
                              "allocator_variances": None})
    with pytest.raises(CheckpointError, match="allocation"):
        est.set_random_state({**state, "allocator_variances": [1.0] * 5})


@pytest.mark.parametrize("kind", ["int", "seed_sequence", "generator"])
def test_seed_forms_are_reproducible(h2, h2_uccsd, kind):
    def seed():
        return {"int": 5, "seed_sequence": np.random.SeedSequence(5),
                "generator": np.random.default_rng(5)}[kind]

    a, b = make(h2, h2_uccsd, seed=seed()), make(h2, h2_uccsd, seed=seed())
    assert a.energy(THETA) == b.energy(THETA)


@pytest.mark.parametrize("seed", [-1, 1.5, "seven", True])
def test_bad_seed(h2, h2_uccsd, seed):
    with pytest.raises(InputError, match="seed must be"):
        make(h2, h2_uccsd, seed=seed)


@pytest.mark.parametrize("allocation", [None, "uniform"])
def test_gradient_stderr_scales_with_each_components_shots(h2, h2_uccsd, allocation):
    """Component i measured with s_i shots has stderr ∝ 1/√s_i: against a run with the
    estimator's shots s, both the reported stderr and the spread over 150 seeds shrink by
    √(s/s_i); the components stay unbiased."""
    shots = 200 if allocation is None else 1000
    per = np.array([1, 4, 16]) * shots
    est = make(h2, h2_uccsd, shots=shots, allocation=allocation)
    exact = qvopt.Estimator(h2.hamiltonian, h2_uccsd).gradient(THETA).value
    base, scaled = [], []
    for seed in range(150):
        est.reseed(seed)
        base.append(est.answer(THETA, Request(gradient=THETA)).gradient)
        scaled.append(est.answer(THETA, Request(gradient=THETA, gradient_shots=per)).gradient)
    expected = np.sqrt(shots / per)
    base_err = np.sqrt(np.mean([g.stderr**2 for g in base], axis=0))
    scaled_err = np.sqrt(np.mean([g.stderr**2 for g in scaled], axis=0))
    assert scaled_err / base_err == pytest.approx(expected, rel=0.1)
    values = np.array([g.value for g in scaled])
    assert values.std(axis=0, ddof=1) / base_err == pytest.approx(expected, rel=0.25)
    assert np.all(np.abs(values.mean(axis=0) - exact) < 4 * scaled_err / np.sqrt(150))


def test_gradient_shots_must_fit_the_circuit(h2, h2_uccsd):
    est = make(h2, h2_uccsd)
    with pytest.raises(InputError, match=r"gradient_shots must have shape \(3,\)"):
        est.answer(THETA, Request(gradient=THETA, gradient_shots=np.array([10, 10])))
    with pytest.raises(InputError, match="gradient_shots must be at most"):
        est.answer(THETA, Request(gradient=THETA,
                                  gradient_shots=np.array([10, 10**13, 10])))


@pytest.mark.parametrize("shots", [1e20, 10**12 + 1, 2**70])
def test_absurd_shots_are_a_clear_error(h2, h2_uccsd, shots):
    with pytest.raises(InputError, match=r"shots must be at most 1e\+12"):
        make(h2, h2_uccsd, shots=shots)


@pytest.mark.parametrize("shots", [0, -5, 1.5, True, "many", float("nan"), float("inf")])
def test_bad_shots_are_input_errors(shots):
    with pytest.raises(InputError, match="shots must be a positive integer"):
        validate_shots(shots)


def test_shot_limit_and_integral_floats():
    assert validate_shots(1e4) == 10_000 and validate_shots(MAX_SHOTS) == 10**12
    assert validate_shots(np.int64(7)) == 7 and validate_shots(None) is None


def test_counts_reducer_is_the_sample_mean_and_variance_of_the_mean():
    values = np.array([1.0, -1.0, 0.5])
    counts = np.array([[3, 1, 0], [1, 0, 0]])
    mean, var = reduce_counts(counts, values, np.array([4, 1]))
    samples = np.array([1.0, 1.0, 1.0, -1.0])
    assert mean[0] == pytest.approx(samples.mean())
    assert var[0] == pytest.approx(samples.var(ddof=1) / 4)
    assert mean[1] == 1.0 and np.isnan(var[1])
    # the multinomial sampler reduces with the same function
    probs = np.array([[0.5, 0.25, 0.25]])
    drawn = np.random.default_rng(1).multinomial(50, probs)
    assert np.array_equal(sample_class_means(probs.copy(), values, 50,
                                             np.random.default_rng(1)),
                          reduce_counts(drawn, values, 50))
