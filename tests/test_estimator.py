"""Estimator: honest sampling (unbiased, correct error bars), reproducibility, ledger, errors."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

import qvopt
from qvopt.estimation.grouping import group_qubitwise_commuting, outcome_classes


@pytest.fixture(scope="module")
def h2_setup(h2):
    circuit = qvopt.ansatz.uccsd(h2)
    theta = np.array([0.3, -0.2, 0.25])
    return h2, circuit, theta


@pytest.fixture(scope="module")
def lih_setup(lih_fc):
    circuit = qvopt.ansatz.uccsd(lih_fc)
    theta = np.random.default_rng(5).normal(scale=0.2, size=circuit.num_parameters)
    return lih_fc, circuit, theta


def check_unbiased_with_right_error_bars(values, stderrs, exact):
    values, stderrs = np.asarray(values), np.asarray(stderrs)
    n = len(values)
    mean_stderr = np.sqrt(np.mean(stderrs**2))
    # mean within 4 standard errors of the exact value
    assert abs(values.mean() - exact) < 4 * values.std(ddof=1) / np.sqrt(n)
    # empirical spread within 20% of the reported stderr
    assert values.std(ddof=1) == pytest.approx(mean_stderr, rel=0.2)


@pytest.mark.parametrize("setup", ["h2_setup", "lih_setup"])
def test_energy_unbiased_with_right_error_bars_over_200_seeds(setup, request):
    problem, circuit, theta = request.getfixturevalue(setup)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=200)
    exact = est.exact_energy(theta)
    values, errs = [], []
    for seed in range(200):
        est.reseed(seed)
        e = est.energy(theta)
        values.append(e.value)
        errs.append(e.stderr)
    check_unbiased_with_right_error_bars(values, errs, exact)


def test_gradient_unbiased_with_right_error_bars(h2_setup):
    problem, circuit, theta = h2_setup
    exact = qvopt.Estimator(problem.hamiltonian, circuit).gradient(theta).value
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=500, seed=3)
    grads = np.array([est.gradient(theta).value for _ in range(200)])
    errs = np.array([est.gradient(theta).stderr for _ in range(20)])
    for i in range(len(theta)):
        check_unbiased_with_right_error_bars(grads[:, i], errs[:, i], exact[i])


def test_stderr_scales_as_one_over_sqrt_shots(h2_setup):
    problem, circuit, theta = h2_setup
    e1 = qvopt.Estimator(problem.hamiltonian, circuit, shots=1000, seed=1).energy(
        np.tile(theta, (50, 1)))
    e2 = qvopt.Estimator(problem.hamiltonian, circuit, shots=16000, seed=1).energy(
        np.tile(theta, (50, 1)))
    assert np.mean(e1.stderr) / np.mean(e2.stderr) == pytest.approx(4.0, rel=0.1)


def test_same_seed_identical_results(lih_setup):
    problem, circuit, theta = lih_setup
    a = qvopt.Estimator(problem.hamiltonian, circuit, shots=100, seed=42)
    b = qvopt.Estimator(problem.hamiltonian, circuit, shots=100, seed=42)
    ea, ga = a.value_and_gradient(theta)
    eb, gb = b.value_and_gradient(theta)
    assert ea.value == eb.value and ea.stderr == eb.stderr
    assert np.array_equal(ga.value, gb.value)
    c = qvopt.Estimator(problem.hamiltonian, circuit, shots=100, seed=43)
    assert c.energy(theta).value != ea.value


def test_shot_ledger_counts_every_execution(lih_setup):
    problem, circuit, theta = lih_setup
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=100, seed=0)
    groups = est.grouped.n_groups
    e = est.energy(theta)
    assert e.shots == est.shots_used == 100 * groups
    batch = est.energy(np.tile(theta, (3, 1)))
    assert batch.shots == 300 * groups
    g = est.gradient(theta)
    assert g.shots == 4 * circuit.num_parameters * 100 * groups  # four-term rule
    assert est.shots_used == (1 + 3 + 4 * circuit.num_parameters) * 100 * groups
    assert est.ledger.executions == est.shots_used // 100


def test_batch_energy_shapes(h2_setup):
    problem, circuit, theta = h2_setup
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=100, seed=0)
    batch = est.energy(np.vstack([theta, theta, np.zeros(3)]))
    assert batch.value.shape == (3,) and batch.stderr.shape == (3,)
    single = est.energy(theta)
    assert isinstance(single.value, float)


def test_exact_mode_matches_statevector(h2_setup):
    from qiskit.quantum_info import Statevector

    problem, circuit, theta = h2_setup
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=None)
    expected = Statevector(circuit.assign_parameters(theta)).expectation_value(
        problem.hamiltonian).real
    e = est.energy(theta)
    assert e.value == pytest.approx(expected, abs=1e-12)
    assert e.stderr == 0 and e.shots == 0 and est.shots_used == 0


def test_groups_are_qubitwise_commuting_and_cover_hamiltonian(lih_fc):
    grouped = group_qubitwise_commuting(lih_fc.hamiltonian)
    labels = lih_fc.hamiltonian.paulis.to_labels()
    covered = sorted(i for g in grouped.groups for i in g.term_indices)
    identity = [i for i, lab in enumerate(labels) if set(lab) == {"I"}]
    assert covered == sorted(set(range(len(labels))) - set(identity))
    for group in grouped.groups:
        for t in group.term_indices:
            for q, char in enumerate(reversed(labels[t])):
                assert char == "I" or char == group.basis[q]


def test_sorted_insertion_is_first_fit_in_order_on_random_paulis():
    """The vectorized first fit gives exactly what the one-group-at-a-time definition gives:
    each term, by decreasing |c|, joins the first earlier group it is qubit-wise compatible
    with (and fills in its basis), or opens one."""
    rng = np.random.default_rng(3)
    labels = sorted({"".join(rng.choice(list("IXYZ"), 10, p=[0.6, 0.1, 0.1, 0.2]))
                     for _ in range(400)} - {"I" * 10})
    op = SparsePauliOp(labels, rng.uniform(0.01, 1.0, len(labels)))
    grouped = group_qubitwise_commuting(op)
    order = sorted(range(len(labels)), key=lambda t: (-round(abs(op.coeffs[t].real), 10),
                                                      labels[t]))
    bases: list[dict[int, str]] = []
    members: list[list[int]] = []
    for t in order:
        term = {q: c for q, c in enumerate(reversed(labels[t])) if c != "I"}
        for basis, member in zip(bases, members, strict=True):
            if all(basis.get(q, c) == c for q, c in term.items()):
                basis.update(term)
                member.append(t)
                break
        else:
            bases.append(dict(term))
            members.append([t])
    assert [sorted(m) for m in members] == [list(g.term_indices) for g in grouped.groups]


def test_outcome_classes_preserve_the_value_distribution():
    op = SparsePauliOp(["ZZI", "IZZ", "ZIZ", "ZII"], [0.5, -0.25, 0.125, 1.0])
    group = group_qubitwise_commuting(op).groups[0]
    classes = outcome_classes(group, 3)
    probs = np.random.default_rng(0).dirichlet(np.ones(8), size=4)
    values = group.values(3)
    class_probs = classes.probabilities(probs)
    assert np.allclose(class_probs.sum(axis=1), 1)
    assert np.allclose(class_probs @ classes.values, probs @ values)
    assert np.allclose(class_probs @ classes.values**2, probs @ values**2)
    assert len(classes.values) <= 8


@pytest.mark.parametrize("shots", [0, -5, 1.5, True, "many"])
def test_bad_shots(h2_setup, shots):
    problem, circuit, _ = h2_setup
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        qvopt.Estimator(problem.hamiltonian, circuit, shots=shots)


def test_bad_parameters(h2_setup):
    problem, circuit, _ = h2_setup
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=10, seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\).*got shape \(2,\)"):
        est.energy([0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        est.energy([0.1, np.nan, 0.0])
    with pytest.raises(ValueError, match="gradient_at must be one parameter vector"):
        est.gradient(np.zeros((2, 3)))
    assert est.shots_used == 0


def test_mismatched_hamiltonian(h2_setup, lih_fc):
    _, circuit, _ = h2_setup
    with pytest.raises(ValueError, match="acts on 10 qubits but the circuit has 4"):
        qvopt.Estimator(lih_fc.hamiltonian, circuit)
    with pytest.raises(TypeError, match="SparsePauliOp"):
        qvopt.Estimator("H", circuit)


def test_gpu_request_fails_clearly_without_gpu(h2_setup):
    problem, circuit, _ = h2_setup
    from qiskit_aer import AerSimulator

    if "GPU" in AerSimulator().available_devices():
        pytest.skip("a GPU is available here")
    with pytest.raises(qvopt.GPUUnavailableError, match=r"qvopt\[gpu\]|no usable NVIDIA GPU"):
        qvopt.Estimator(problem.hamiltonian, circuit, device="GPU")
    with pytest.raises(ValueError, match="device must be one of"):
        qvopt.Estimator(problem.hamiltonian, circuit, device="TPU")


@pytest.mark.parametrize("name", ["h2", "h4", "lih_fc", "lih", "beh2", "h2o"])
def test_exact_and_sampled_agree_within_error_bars_on_every_molecule(name):
    problem = qvopt.load_problem(name)
    circuit = qvopt.ansatz.uccsd(problem)
    theta = np.random.default_rng(len(name)).normal(scale=0.05, size=circuit.num_parameters)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=4000, seed=1)
    estimate = est.energy(np.tile(theta, (4, 1)))
    exact = est.exact_energy(theta)
    combined = estimate.value.mean()
    combined_err = np.sqrt(np.sum(estimate.stderr**2)) / 4
    assert abs(combined - exact) < 4 * combined_err


@pytest.mark.parametrize("method", ["sorted_insertion", "dsatur"])
def test_grouping_methods_give_valid_qwc_groups(lih, method):
    grouped = group_qubitwise_commuting(lih.hamiltonian, method=method)
    labels = lih.hamiltonian.paulis.to_labels()
    covered = sorted(i for g in grouped.groups for i in g.term_indices)
    assert covered == [i for i, lab in enumerate(labels) if set(lab) != {"I"}]
    for group in grouped.groups:
        for t in group.term_indices:
            assert all(c == "I" or c == group.basis[q] for q, c in enumerate(reversed(labels[t])))
    with pytest.raises(ValueError, match="grouping must be one of"):
        group_qubitwise_commuting(lih.hamiltonian, method="greedy")
