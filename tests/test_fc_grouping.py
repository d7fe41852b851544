"""Fully commuting (FC) measurement groups: Clifford correctness, exact energies, honest
sampling on the statevector path, the sector engine and circuit backends, and the gain
over qubit-wise commuting (QWC) groups."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import Operator, Pauli, PauliList, SparsePauliOp, Statevector
from qiskit.quantum_info.random import random_clifford
from scipy.sparse.linalg import eigsh

import qvopt
from qvopt.errors import InputError
from qvopt.estimation import form_groups
from qvopt.estimation.clifford_rotation import rotate
from qvopt.estimation.commuting import (
    commutation_matrix,
    commuting_group,
    diagonalizing_gates,
    group_fully_commuting,
)
from qvopt.estimation.grouping import outcome_classes
from qvopt.estimation.observable import SampledObservable
from qvopt.estimation.sector_stabilizer import embedded_clifford, stabilizer_moments


def random_commuting_labels(n: int, m: int, rng: np.random.Generator) -> list[str]:
    """``m`` distinct commuting Hermitian Pauli labels on ``n`` qubits: products of the
    images of random Z strings under a random Clifford (so some are dependent, and the
    Z-only generators are exercised when the Clifford leaves Z strings diagonal)."""
    clifford = random_clifford(n, seed=int(rng.integers(2**31)))
    labels: set[str] = set()
    while len(labels) < m:
        z = rng.integers(0, 2, n).astype(bool)
        if not z.any():
            continue
        image = Pauli((z, np.zeros(n, bool))).evolve(clifford, frame="s")
        labels.add(image.to_label().lstrip("-"))
    return sorted(labels)


def dense_check(group, paulis: PauliList) -> None:
    """``U P_t U† = s_t Z^{z_t}`` with dense matrices."""
    n = group.n_qubits
    unitary = Operator(group.circuit()).data
    outcomes = np.arange(2**n)
    for t, sign, support in zip(group.term_indices, group.signs, group.supports, strict=True):
        matrix = paulis[t].to_matrix()
        diagonal = sign * (1.0 - 2.0 * (np.bitwise_count(outcomes & int(support)) % 2))
        np.testing.assert_allclose(unitary @ matrix @ unitary.conj().T, np.diag(diagonal),
                                   atol=1e-10)


@pytest.mark.parametrize("n, m", [(1, 1), (2, 3), (3, 7), (4, 9), (5, 20), (5, 31)])
def test_clifford_diagonalizes_random_commuting_groups(n, m):
    rng = np.random.default_rng(100 * n + m)
    for _ in range(5):
        labels = random_commuting_labels(n, m, rng)
        op = SparsePauliOp(labels, rng.normal(size=len(labels)))
        group = commuting_group(op, list(range(len(labels))))
        assert set(group.pivots) <= set(range(n))
        pivot_mask = sum(1 << p for p in group.pivots)
        assert np.all(group.supports & ~pivot_mask == 0)
        dense_check(group, op.paulis)


def test_clifford_handles_pure_z_and_mixed_generators():
    op = SparsePauliOp(["ZZI", "IZZ", "ZIZ", "XXX", "YYX", "YYI", "IIZ"],
                       [1.0, 0.5, -0.3, 0.2, 0.1, 0.05, 0.4])
    for member in ([0, 1, 2], [3, 4], [0, 3, 4], [0, 1, 2, 3, 4], [3, 4, 5], [0, 1, 6]):
        assert commutation_matrix(op.paulis.x[member], op.paulis.z[member]).all()
        dense_check(commuting_group(op, member), op.paulis)
    assert commuting_group(op, [0, 1, 2]).rank == 2  # ZIZ = ZZI · IZZ
    z_only = commuting_group(op, [0, 1, 2, 6])
    assert z_only.rank == 3
    assert z_only.gates == ()  # a full-rank set of Z strings is measured as it is


def test_non_commuting_strings_are_refused():
    x = np.array([[1, 0], [0, 0]], bool)  # X0 and Z0
    z = np.array([[0, 0], [1, 0]], bool)
    with pytest.raises(InputError, match="commute"):
        diagonalizing_gates(x, z)


@pytest.mark.parametrize("name", ["h2", "lih_fc"])
def test_shipped_molecule_groups_commute_and_are_diagonalized(name):
    problem = qvopt.load_problem(name)
    op = problem.hamiltonian
    grouped = group_fully_commuting(op)
    assert grouped.kind == "fc"
    covered = sorted(t for g in grouped.groups for t in g.term_indices)
    identity = [t for t, p in enumerate(op.paulis) if not (p.x.any() or p.z.any())]
    assert covered == sorted(set(range(len(op))) - set(identity))
    commute = commutation_matrix(op.paulis.x, op.paulis.z)
    for group in grouped.groups:
        idx = list(group.term_indices)
        assert commute[np.ix_(idx, idx)].all()
        rotated = op.paulis[idx].evolve(group.circuit(), frame="s")
        assert not rotated.x.any()
        weights = 1 << np.arange(problem.n_qubits)
        np.testing.assert_array_equal((rotated.z * weights).sum(axis=1), group.supports)
        np.testing.assert_array_equal(np.where(rotated.phase == 2, -1.0, 1.0), group.signs)
        assert set(np.unique(rotated.phase)) <= {0, 2}
        if problem.n_qubits <= 4:
            dense_check(group, op.paulis)


def test_sorted_insertion_order_and_first_fit():
    """Each term sits in the first group (in creation order) it commutes with entirely,
    among the groups as they were when it was placed (terms by decreasing |c|)."""
    op = qvopt.load_problem("lih_fc").hamiltonian
    grouped = group_fully_commuting(op)
    labels = op.paulis.to_labels()
    coeffs = op.coeffs.real
    rank = {t: (-round(abs(coeffs[t]), 10), labels[t]) for t in range(len(op))}
    commute = commutation_matrix(op.paulis.x, op.paulis.z)
    home = {t: k for k, g in enumerate(grouped.groups) for t in g.term_indices}
    firsts = [min(g.term_indices, key=rank.get) for g in grouped.groups]
    assert [rank[f] for f in firsts] == sorted(rank[f] for f in firsts)
    for t, k in home.items():
        for earlier in range(k):
            before = [u for u in grouped.groups[earlier].term_indices if rank[u] < rank[t]]
            assert not commute[t, before].all(), (labels[t], earlier)


def test_clifford_program_matches_qiskit_statevector_evolution():
    problem = qvopt.load_problem("lih_fc")
    grouped = group_fully_commuting(problem.hamiltonian)
    rng = np.random.default_rng(7)
    n = problem.n_qubits
    states = rng.normal(size=(3, 2**n)) + 1j * rng.normal(size=(3, 2**n))
    states /= np.linalg.norm(states, axis=1, keepdims=True)
    for group in grouped.groups[:6]:
        mine = rotate(group, states)
        for k in range(len(states)):
            expected = Statevector(states[k]).evolve(group.circuit()).data
            np.testing.assert_allclose(mine[k], expected, atol=1e-12)


@pytest.fixture(scope="module")
def lih_fc_case(lih_fc):
    circuit = qvopt.ansatz.uccsd(lih_fc)
    theta = np.random.default_rng(5).normal(scale=0.2, size=circuit.num_parameters)
    return lih_fc, circuit, theta


@pytest.mark.parametrize("engine", ["aer", "sector"])
def test_exact_energy_and_class_probabilities_on_both_engines(lih_fc_case, engine):
    problem, circuit, theta = lih_fc_case
    est = qvopt.Estimator(problem.hamiltonian, circuit, grouping="fc", engine=engine)
    assert est.engine_name == engine and est.grouped.kind == "fc"
    state = qvopt.Estimator(problem.hamiltonian, circuit, engine="aer").engine.statevectors(
        theta[None])[0]
    exact = np.vdot(state, problem.hamiltonian.to_matrix(sparse=True) @ state).real
    assert est.exact_energy(theta) == pytest.approx(exact, abs=1e-10)
    # the sampled distributions reproduce ⟨ψ|H|ψ⟩ through the outcome values
    assert_outcome_values_give(est, theta, engine, exact)


def assert_outcome_values_give(est, theta, engine: str, exact: float) -> None:
    """The energy from the exact outcome-class probabilities and each class's value equals
    ``exact`` (1e-6 for Aer's single-precision rotations, 1e-10 on the sector engine)."""
    observable = est.observable
    if engine == "aer":
        probs = observable.class_probabilities(est.engine.statevectors(theta[None]))
        values = [c.values for c in observable.classes]
        tol = 1e-6  # single-precision rotations
    else:
        probs = est.reference.class_probabilities(est.engine.sector_columns(theta[None]))
        values = est.reference.classes.values
        tol = 1e-10
    energy = observable.grouped.constant + sum(p[0] @ v for p, v in zip(probs, values,
                                                                        strict=True))
    assert energy == pytest.approx(exact, abs=tol)
    for p in probs:
        assert p.min() > -1e-9 and p.sum() == pytest.approx(1.0, abs=1e-6)


def test_sector_stabilizer_moments_equal_the_embedded_clifford(lih_fc_case):
    """Both sector methods give the Born class probabilities of U|ψ⟩, to rounding."""
    problem, circuit, theta = lih_fc_case
    est = qvopt.Estimator(problem.hamiltonian, circuit, grouping="fc", engine="sector")
    basis = est.engine.basis
    rng = np.random.default_rng(3)
    columns = est.engine.sector_columns(rng.normal(scale=0.3, size=(4, len(theta)))
                                        ).copy()
    for g, group in enumerate(est.grouped.groups):
        classes = outcome_classes(group, problem.n_qubits)
        moments = stabilizer_moments(g, group, classes, basis)
        embedded = embedded_clifford(g, group, classes, basis).probabilities(columns)
        pairs = np.zeros((len(moments.keys), columns.shape[1]))
        for m, (d, e, w) in enumerate(moments.pairs):
            pairs[m] = w @ (columns[d] * columns[e])
        from_moments = moments.mix @ pairs
        np.testing.assert_allclose(from_moments, embedded[moments.possible], atol=1e-12)
        assert np.abs(embedded[~moments.possible]).max(initial=0.0) < 1e-12


def test_sector_sampler_with_the_embedded_fallback_only(lih_fc_case, monkeypatch):
    """Groups too large for stabilizer moments take the embedded Clifford: same classes."""
    from qvopt.estimation import sector_classes

    problem, circuit, theta = lih_fc_case
    points = np.random.default_rng(9).normal(scale=0.3, size=(3, len(theta)))
    probabilities = []
    for limit in (sector_classes.MAX_STABILIZER_RANK, 0):
        monkeypatch.setattr(sector_classes, "MAX_STABILIZER_RANK", limit)
        est = qvopt.Estimator(problem.hamiltonian, circuit, grouping="fc", engine="sector")
        tables = est.reference.classes
        assert (len(tables.moments), len(tables.rotations)) == (
            (est.grouped.n_groups, 0) if limit else (0, est.grouped.n_groups))
        columns = est.engine.sector_columns(points)
        probabilities.append([np.zeros((3, len(c.values))) for c in est.observable.classes])
        for g, p in enumerate(est.reference.class_probabilities(columns)):
            probabilities[-1][g][:, tables.possible[g]] = p
    for a, b in zip(*probabilities, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


def reseeded_calibration(est, theta, seeds: int = 400) -> None:
    """:func:`calibration` of ``est.energy(theta)`` over ``seeds`` reseedings of ``est``."""
    exact = est.exact_energy(theta)
    estimates = []
    for seed in range(seeds):
        est.reseed(seed)
        estimates.append(est.energy(theta))
    calibration(np.array([e.value for e in estimates]),
                np.array([e.stderr for e in estimates]), exact)


def calibration(values: np.ndarray, stderrs: np.ndarray, exact: float) -> None:
    """Unbiased and honest error bars over N independent seeds.

    Mean: a z-test at 4 standard errors. Spread: the sample standard deviation of N
    near-Gaussian estimates has relative standard error ``1/√(2(N−1))`` (0.035 for
    N = 400), so ``sd / rms(stderr)`` must lie within 4 of those of 1 (±0.14).
    """
    n = len(values)
    spread = values.std(ddof=1)
    assert abs(values.mean() - exact) < 4 * spread / np.sqrt(n)
    ratio = spread / np.sqrt(np.mean(stderrs**2))
    assert abs(ratio - 1.0) < 4 / np.sqrt(2 * (n - 1)), ratio


@pytest.mark.parametrize("engine", ["aer", "sector"])
def test_fc_energies_unbiased_with_honest_error_bars_over_400_seeds(lih_fc_case, engine):
    problem, circuit, theta = lih_fc_case
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=4000, grouping="fc",
                          allocation="weighted", engine=engine)
    reseeded_calibration(est, theta)
    assert est.shots_used == 400 * 4000


def test_fc_gradient_and_term_sampling_unbiased(lih_fc_case):
    problem, circuit, theta = lih_fc_case
    exact = qvopt.Estimator(problem.hamiltonian, circuit, grouping="fc").gradient(theta)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=20_000, grouping="fc",
                          allocation="variance", seed=11)
    gradient = est.gradient(theta)
    z = (gradient.value - exact.value) / gradient.stderr
    assert np.all(np.abs(z) < 4.5), z
    # Rosalin's weighted random group sampling on FC groups (many points at once)
    energy = qvopt.Estimator(problem.hamiltonian, circuit).exact_energy(theta)
    points = np.tile(theta, (400, 1))
    sampled = est.energy(points, term_sampling="weighted_random")
    calibration(sampled.value, sampled.stderr, energy)


def test_fc_on_a_circuit_backend_is_unbiased(h2):
    """Aer circuits measured after each group's Clifford (noiseless 'aer' backend)."""
    circuit = qvopt.ansatz.uccsd(h2)
    theta = np.array([0.3, -0.2, 0.25])
    exact = qvopt.Estimator(h2.hamiltonian, circuit).exact_energy(theta)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=500, grouping="fc", backend="aer",
                          seed=4)
    estimate = est.energy(np.tile(theta, (400, 1)))
    calibration(estimate.value, estimate.stderr, exact)
    costs = est.sampler.circuit_costs()
    assert len(costs) == est.grouped.n_groups == 2


def test_fc_on_pennylane_matches_exact_mean(h2):
    pytest.importorskip("pennylane")
    circuit = qvopt.ansatz.uccsd(h2)
    theta = np.array([0.3, -0.2, 0.25])
    exact = qvopt.Estimator(h2.hamiltonian, circuit).exact_energy(theta)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=20_000, grouping="fc",
                          backend="pennylane:default.qubit")
    estimate = est.energy(np.tile(theta, (10, 1)))
    assert abs(estimate.value.mean() - exact) < 4 * np.sqrt(np.mean(estimate.stderr**2) / 10)


def ground_state(problem) -> np.ndarray:
    """Lowest eigenvector of H in the Hartree–Fock (Nα, Nβ) sector, as a 2^n vector."""
    n = problem.n_qubits
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    half = problem.n_electrons // 2
    keep = np.flatnonzero((bits[:, 0::2].sum(1) == half) & (bits[:, 1::2].sum(1) == half))
    matrix = problem.hamiltonian.to_matrix(sparse=True).tocsr()[keep][:, keep]
    _, vectors = eigsh(matrix, k=1, which="SA")
    state = np.zeros(2**n, dtype=complex)
    state[keep] = vectors[:, 0]
    return state


def test_fc_needs_fewer_groups_and_fewer_shots_than_qwc(lih_fc):
    state = ground_state(lih_fc)[None]
    metric = {}
    for grouping in ("sorted_insertion", "fc"):
        observable = SampledObservable(lih_fc.hamiltonian, grouping=grouping)
        metric[grouping] = (observable.n_groups,
                            np.sqrt(observable.group_variances(state)[0]).sum() ** 2)
    (g_qwc, m_qwc), (g_fc, m_fc) = metric["sorted_insertion"], metric["fc"]
    assert g_fc < g_qwc / 2
    assert m_fc < m_qwc / 2  # ε²M = (Σ_g σ_g)²: 0.28 vs 0.90 Ha² on lih_fc


def test_form_groups_names():
    op = qvopt.load_problem("h2").hamiltonian
    assert form_groups(op, "fc").kind == "fc"
    assert form_groups(op, "dsatur").kind == "qwc"
    with pytest.raises(InputError, match="'fc'"):
        form_groups(op, "greedy")
