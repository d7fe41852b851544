"""Coefficient splitting between overlapping fully commuting groups (``grouping="fc_split"``):
the classical proxy state, the extended groups, the split (sums, optimality, monotone
objective), honest sampling on the statevector path and the sector engine, and the gain
over plain FC groups."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp
from scipy.optimize import minimize
from test_fc_grouping import (
    assert_outcome_values_give,
    calibration,
    ground_state,
    reseeded_calibration,
)

import qvopt
from qvopt.estimation import form_groups
from qvopt.estimation.commuting import commutation_matrix, group_fully_commuting
from qvopt.estimation.observable import SampledObservable
from qvopt.estimation.proxy_state import (
    interacting_space,
    proxy_state,
    reference_state,
    restricted_matrix,
)
from qvopt.estimation.splitting import (
    SHRINKAGE,
    extend_members,
    frame_covariance,
    placements_of,
    split_coefficients,
)


@pytest.fixture(scope="module")
def lih_fc_split(lih_fc):
    return form_groups(lih_fc.hamiltonian, "fc_split")


@pytest.mark.parametrize("name", ["h2", "lih_fc", "h4"])
def test_reference_is_hartree_fock_and_restricted_matrix_is_exact(name):
    problem = qvopt.load_problem(name)
    op = problem.hamiltonian
    reference = reference_state(op)
    assert reference == int(problem.hf_bitstring, 2)
    basis = interacting_space(op, reference)
    dense = op.to_matrix(sparse=True).tocsr()[basis][:, basis].toarray()
    np.testing.assert_allclose(restricted_matrix(op, basis).toarray(), dense, atol=1e-12)


def test_proxy_is_cisd_between_hartree_fock_and_fci():
    """H4: the singles-and-doubles proxy lies strictly between E_HF and E_FCI."""
    h4 = qvopt.load_problem("h4")
    basis, amplitudes = proxy_state(h4.hamiltonian)
    dense = h4.hamiltonian.to_matrix(sparse=True).tocsr()[basis][:, basis]
    energy = float(np.real(np.vdot(amplitudes, dense @ amplitudes)))
    assert h4.e_fci < energy < h4.e_hf - 1e-3
    assert np.linalg.norm(amplitudes) == pytest.approx(1.0)


def test_extended_groups_commute_and_are_maximal(lih_fc):
    op = lih_fc.hamiltonian
    grouped = group_fully_commuting(op)
    members = [list(g.term_indices) for g in grouped.groups]
    order = sorted(t for m in members for t in m)
    commute = commutation_matrix(op.paulis.x, op.paulis.z)
    for member, grown in zip(members, extend_members(op, members, order), strict=True):
        assert grown[:len(member)] == member
        assert commute[np.ix_(grown, grown)].all()
        outside = sorted(set(order) - set(grown))
        assert not np.any(commute[np.ix_(outside, grown)].all(axis=1))


def test_split_groups_sum_to_the_hamiltonian(lih_fc, lih_fc_split):
    op = lih_fc.hamiltonian
    fc = group_fully_commuting(op)
    assert lih_fc_split.kind == "fc" and lih_fc_split.n_groups == fc.n_groups
    assert lih_fc_split.constant == fc.constant
    total = np.zeros(len(op))
    for plain, split in zip(fc.groups, lih_fc_split.groups, strict=True):
        assert set(plain.term_indices) <= set(split.term_indices)
        np.add.at(total, list(split.term_indices), split.coeffs)
    identity = ~(op.paulis.x.any(axis=1) | op.paulis.z.any(axis=1))
    np.testing.assert_allclose(total[~identity], op.coeffs.real[~identity], rtol=0,
                               atol=1e-12)
    assert np.sum([len(g.term_indices) for g in lih_fc_split.groups]) > 2 * len(op)


def test_split_groups_are_diagonalized(lih_fc, lih_fc_split):
    op = lih_fc.hamiltonian
    weights = 1 << np.arange(lih_fc.n_qubits)
    for group in lih_fc_split.groups:
        rotated = op.paulis[list(group.term_indices)].evolve(group.circuit(), frame="s")
        assert not rotated.x.any()
        np.testing.assert_array_equal((rotated.z * weights).sum(axis=1), group.supports)


def test_frame_covariance_equals_dense_expectations(lih_fc, lih_fc_split):
    state = ground_state(lih_fc)
    op = lih_fc.hamiltonian
    group = lih_fc_split.groups[1]
    matrices = [op.paulis[t].to_matrix(sparse=True) for t in group.term_indices]
    means = np.array([np.vdot(state, m @ state).real for m in matrices])
    expected = np.array([[np.vdot(state, a @ (b @ state)).real for b in matrices]
                         for a in matrices]) - np.outer(means, means)
    np.testing.assert_allclose(frame_covariance(group, state), expected, atol=1e-10)


def _toy_problem(rng: np.random.Generator):
    """Three groups of random PSD covariances; term 0 in all, term 1 in groups 0 and 2."""
    sizes = [3, 2, 4]
    covariances = []
    for m in sizes:
        a = rng.normal(size=(m, m + 2))
        covariances.append(a @ a.T / (m + 2) + 0.05 * np.eye(m))
    groups_terms = [[0, 1, 2], [0, 3], [0, 1, 4, 5]]
    groups = [type("G", (), {"term_indices": tuple(t)})() for t in groups_terms]
    placements = placements_of(groups)  # type: ignore[arg-type]
    coeffs = rng.normal(size=6)
    start = [np.array([coeffs[t] if g == min(p[0] for p in placements[t]) else 0.0
                       for t in terms]) for g, terms in enumerate(groups_terms)]
    return covariances, start, placements, coeffs


def test_split_is_the_constrained_minimum_and_the_objective_never_rises():
    rng = np.random.default_rng(4)
    covariances, start, placements, coeffs = _toy_problem(rng)
    shares, history = split_coefficients(covariances, start, placements, coeffs)
    assert np.all(np.diff(history) <= 1e-15)
    # free variables: term 0 in groups 1, 2 and term 1 in group 2 (rest by the sums)
    def objective(y):
        s = [v.copy() for v in start]
        s[1][0], s[2][0], s[2][1] = y[0], y[1], y[2]
        s[0][0] = coeffs[0] - y[0] - y[1]
        s[0][1] = coeffs[1] - y[2]
        return sum(np.sqrt(v @ c @ v) for v, c in zip(s, covariances, strict=True))
    best = minimize(objective, np.zeros(3), method="Nelder-Mead",
                    options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000})
    assert history[-1] == pytest.approx(best.fun, rel=1e-5)
    assert shares[0][0] + shares[1][0] + shares[2][0] == pytest.approx(coeffs[0], abs=1e-14)


def test_split_halves_the_shots_of_fc_on_lih_fc(lih_fc, lih_fc_split):
    """ε²M = (Σ_g σ_g)² at the FCI ground state: 0.28 (FC) vs 0.12 Ha² (split)."""
    state = ground_state(lih_fc)[None]
    metric = {}
    for name, grouped in (("fc", group_fully_commuting(lih_fc.hamiltonian)),
                          ("split", lih_fc_split)):
        observable = SampledObservable(lih_fc.hamiltonian, grouped=grouped)
        metric[name] = np.sqrt(observable.group_variances(state)[0]).sum() ** 2
    assert metric["split"] < 0.6 * metric["fc"]
    assert 0 < SHRINKAGE < 1


@pytest.fixture(scope="module")
def lih_fc_case(lih_fc, lih_fc_split):
    circuit = qvopt.ansatz.uccsd(lih_fc)
    theta = np.random.default_rng(5).normal(scale=0.2, size=circuit.num_parameters)
    return lih_fc, circuit, theta, lih_fc_split


@pytest.mark.parametrize("engine", ["aer", "sector"])
def test_split_exact_energy_through_the_outcome_values(lih_fc_case, engine):
    problem, circuit, theta, grouped = lih_fc_case
    est = qvopt.Estimator(problem.hamiltonian, circuit, grouping="fc_split", engine=engine,
                          grouped=grouped)
    assert_outcome_values_give(est, theta, engine, est.exact_energy(theta))


@pytest.mark.parametrize("engine", ["aer", "sector"])
def test_split_energies_unbiased_with_honest_error_bars_over_400_seeds(lih_fc_case, engine):
    problem, circuit, theta, grouped = lih_fc_case
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=4000, grouping="fc_split",
                          allocation="weighted", engine=engine, grouped=grouped)
    reseeded_calibration(est, theta)
    assert est.shots_used == 400 * 4000


def test_split_gradient_variance_allocation_and_term_sampling_unbiased(lih_fc_case):
    problem, circuit, theta, grouped = lih_fc_case
    exact = qvopt.Estimator(problem.hamiltonian, circuit).gradient(theta)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=20_000, grouping="fc_split",
                          allocation="variance", seed=11, grouped=grouped)
    gradient = est.gradient(theta)
    z = (gradient.value - exact.value) / gradient.stderr
    assert np.all(np.abs(z) < 4.5), z
    energy = qvopt.Estimator(problem.hamiltonian, circuit).exact_energy(theta)
    points = np.tile(theta, (400, 1))
    calibration(*_value_stderr(est.energy(points)), energy)
    calibration(*_value_stderr(est.energy(points, term_sampling="weighted_random")), energy)


def _value_stderr(estimate) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(estimate.value), np.asarray(estimate.stderr)


def test_fc_split_is_a_grouping_everywhere(h2):
    from qvopt.setting_checks import check_grouping

    assert check_grouping("fc_split") == "fc_split"
    assert form_groups(h2.hamiltonian, "fc_split").kind == "fc"


def test_small_operators():
    """Only the identity: no group; one group: nothing to split; XX, ZZ, YY, ZI: ZZ is
    shared by both groups and split between them."""
    assert form_groups(SparsePauliOp(["II"], [1.0]), "fc_split").n_groups == 0
    (alone,) = form_groups(SparsePauliOp(["II", "ZI"], [1.0, 0.5]), "fc_split").groups
    assert alone.coeffs.tolist() == [0.5]
    op = SparsePauliOp(["XX", "ZZ", "YY", "ZI"], [1.0, 0.5, 0.3, 0.2])
    first, second = form_groups(op, "fc_split").groups
    assert first.term_indices == (0, 1, 2) and second.term_indices == (1, 3)
    assert first.coeffs[1] + second.coeffs[0] == pytest.approx(0.5, abs=1e-15)
    assert 0 < second.coeffs[0] < 0.5



def test_split_on_a_circuit_backend_is_unbiased(h2):
    """Aer circuits measured after each extended group's Clifford (noiseless 'aer')."""
    circuit = qvopt.ansatz.uccsd(h2)
    theta = np.array([0.3, -0.2, 0.25])
    exact = qvopt.Estimator(h2.hamiltonian, circuit).exact_energy(theta)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=500, grouping="fc_split",
                          backend="aer", seed=4)
    estimate = est.energy(np.tile(theta, (400, 1)))
    calibration(estimate.value, estimate.stderr, exact)
    assert len(est.sampler.circuit_costs()) == est.grouped.n_groups == 2
