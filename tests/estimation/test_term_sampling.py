"""Weighted random operator sampling (Rosalin's estimator): unbiased energies and gradients
with fewer shots than groups, calibrated error bars, honest group draws, exact accounting."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.ansatz import build_ansatz
from qvopt.errors import InputError
from qvopt.estimation.request import Request
from qvopt.estimation.term_sampling import draw_group_shots, group_probabilities

THETA = np.array([0.12, -0.07, 0.21])


@pytest.fixture(scope="module")
def circuit(h2):
    return build_ansatz("uccsd", h2)


@pytest.mark.parametrize("engine", ["sector", "aer"])
def test_energy_is_unbiased_with_calibrated_errors(h2, circuit, engine):
    # 5 shots per evaluation (1 per group) drawn over H2's 5 groups: at most points some
    # groups are not measured at all
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=1, seed=7, engine=engine)
    n = 4000
    estimate = est.energy(np.tile(THETA, (n, 1)), term_sampling="weighted_random")
    exact = est.exact_energy(THETA)
    spread = estimate.value.std(ddof=1)
    assert abs(estimate.value.mean() - exact) < 4 * spread / np.sqrt(n)
    # the reported variance matches the empirical one (on average over the samples)
    assert np.mean(estimate.stderr**2) == pytest.approx(spread**2, rel=0.1)
    assert estimate.shots == 5 * n


def test_gradient_is_unbiased(h2, circuit):
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=20, seed=3)
    exact = qvopt.Estimator(h2.hamiltonian, circuit).gradient(THETA).value
    request = Request(gradient=THETA, gradient_shots=np.array([4, 6, 9]),
                      term_sampling="weighted_random")
    samples = np.array([est.answer(THETA, request).gradient.value for _ in range(1500)])
    stderr = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    assert np.all(np.abs(samples.mean(axis=0) - exact) < 4 * stderr)


def test_group_draws_follow_the_coefficient_norms(h2, circuit):
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=10)
    p = group_probabilities(est.grouped)
    norms = np.array([np.abs(g.coeffs).sum() for g in est.grouped.groups])
    assert np.allclose(p, norms / norms.sum())
    counts = draw_group_shots(np.full(2000, 5), p, np.random.default_rng(0))
    assert np.all(counts.sum(axis=1) == 5)
    total = counts.sum()
    tolerance = 4 * np.sqrt(p * (1 - p) / total)
    assert np.all(np.abs(counts.sum(axis=0) / total - p) < tolerance)


@pytest.mark.parametrize("allocation", [None, "variance"])
def test_requested_totals_are_charged_exactly(h2, circuit, allocation):
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=40, allocation=allocation, seed=2)
    shots = np.array([3, 11, 2])
    request = Request(gradient=THETA, gradient_shots=shots, term_sampling="weighted_random")
    points = 4  # Givens excitations: four-term shift rule
    for _ in range(3):
        before, executions = est.shots_used, est.ledger.executions
        reply = est.answer(THETA, request)
        charged = est.shots_used - before
        assert charged == est.cost(request) == est.shots_per_evaluation + points * shots.sum()
        assert reply.gradient.shots == points * shots.sum()
        # a group that drew no shot is not executed: at most one execution per shot
        drawn = est.ledger.executions - executions - est.grouped.n_groups
        assert 0 < drawn <= points * shots.sum()


def test_circuit_backend_skips_groups_without_shots(h2, circuit):
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=1, backend="aer", seed=4)
    estimate = est.energy(np.tile(THETA, (50, 1)), term_sampling="weighted_random")
    assert np.all(np.isfinite(estimate.value)) and est.shots_used == 250
    assert est.ledger.executions < 250


def test_bad_term_sampling_is_a_clear_error(h2, circuit):
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=10)
    with pytest.raises(InputError, match="term_sampling must be None or one of"):
        est.energy(THETA, term_sampling="uniform_random")
    with pytest.raises(ValueError, match="Request.term_sampling must be"):
        Request(gradient=THETA, term_sampling="bogus")
    with pytest.raises(ValueError, match="needs Request.gradient"):
        Request(term_sampling="weighted_random")
    # exact mode: nothing to sample, the exact value
    exact = qvopt.Estimator(h2.hamiltonian, circuit)
    assert exact.energy(THETA, term_sampling="weighted_random").value == \
        pytest.approx(exact.exact_energy(THETA))


def test_zne_is_refused_before_anything_is_charged(h2, circuit):
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=50, backend="aer",
                          backend_options={"mitigation": "zne"}, seed=1)
    request = Request(gradient=THETA, term_sampling="weighted_random")
    with pytest.raises(InputError, match="zero-noise extrapolation"):
        est.answer(THETA, request)
    assert est.shots_used == 0
    with pytest.raises(InputError, match="other than rosalin when mitigation includes 'zne'"):
        qvopt.RunConfig("h2", optimizer="rosalin", backend="aer",
                        backend_options={"mitigation": "zne"})


def test_a_group_with_zero_norm_is_never_drawn_and_harmless():
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.quantum_info import SparsePauliOp

    hamiltonian = SparsePauliOp(["II", "ZZ", "XX", "YY"], [0.5, 1.0, 0.0, 0.3])
    qc = QuantumCircuit(2)
    qc.ry(Parameter("a"), 0)
    qc.cx(0, 1)
    est = qvopt.Estimator(hamiltonian, qc, shots=20, seed=3)
    assert 0.0 in est.grouped.coefficient_norms()
    n = 3000
    estimate = est.energy(np.full((n, 1), 0.3), term_sampling="weighted_random")
    assert np.all(np.isfinite(estimate.value))
    spread = estimate.value.std(ddof=1)
    assert abs(estimate.value.mean() - est.exact_energy([0.3])) < 4 * spread / np.sqrt(n)
