"""Fubini–Study metric (exact, block-diag, diag, sampled) and the quantum natural gradient."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp, Statevector

import qvopt
from qvopt.estimation.base import Estimate
from qvopt.optimizers import get_optimizer
from qvopt.optimizers.ask_tell import Reply


def one_qubit():
    a, b = Parameter("a"), Parameter("b")
    circuit = QuantumCircuit(1)
    circuit.ry(a, 0)
    circuit.rz(b, 0)
    return circuit


def test_one_qubit_metric_is_analytic():
    # |ψ⟩ = RZ(b) RY(a)|0⟩: g = diag(1/4, sin²(a)/4)
    est = qvopt.Estimator(SparsePauliOp("X"), one_qubit())
    for a in (0.3, 1.2, 2.5):
        g = est.metric([a, 0.7]).value
        assert np.allclose(g, np.diag([0.25, np.sin(a) ** 2 / 4]), atol=1e-12)
        assert np.allclose(est.metric([a, 0.7], approx="block-diag").value, g, atol=1e-12)


def test_qng_step_on_one_qubit_by_hand():
    # E = ⟨X⟩ = sin(a) cos(b); one QNG step from (a, b) with lr η and λ
    est = qvopt.Estimator(SparsePauliOp("X"), one_qubit())
    theta = np.array([0.9, 0.4])
    lr, lam = 0.2, 0.01
    opt = get_optimizer("qng", lr=lr, lam=lam, approx=None)
    state = opt.init(theta)
    request = opt.ask(state)
    assert request.metric is not None and request.gradient is not None
    grad = est.gradient(theta)
    reply = Reply(value=est.energy(theta), gradient=grad,
                  metric=est.metric(theta, approx=request.metric_approx))
    new = opt.params(opt.tell(state, reply))
    a, b = theta
    exact_grad = np.array([np.cos(a) * np.cos(b), -np.sin(a) * np.sin(b)])
    metric = np.diag([0.25, np.sin(a) ** 2 / 4])
    expected = theta - lr * np.linalg.solve(metric + lam * np.eye(2), exact_grad)
    assert np.allclose(grad.value, exact_grad, atol=1e-12)
    assert np.allclose(new, expected, atol=1e-12)


def test_qng_reuses_metric_for_k_steps():
    opt = get_optimizer("qng", metric_every=3)
    state = opt.init(np.zeros(2))
    asked = []
    for _ in range(7):
        request = opt.ask(state)
        asked.append(request.metric is not None)
        reply = Reply(value=Estimate(0.0, 0.0, 0), gradient=Estimate(np.ones(2), 0.0, 0),
                      metric=Estimate(np.eye(2), 0.0, 0) if asked[-1] else None)
        state = opt.tell(state, reply)
    assert asked == [True, False, False, True, False, False, True]


def overlap_metric(circuit, theta, h=1e-3):
    def psi(t):
        return Statevector(circuit.assign_parameters(t)).data

    ref = psi(theta)

    def fidelity(t):
        return abs(np.vdot(ref, psi(t))) ** 2

    n = len(theta)
    eye = np.eye(n)
    g = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            g[i, j] = -0.5 * (fidelity(theta + h * (eye[i] + eye[j]))
                              - fidelity(theta + h * (eye[i] - eye[j]))
                              - fidelity(theta - h * (eye[i] - eye[j]))
                              + fidelity(theta - h * (eye[i] + eye[j]))) / (4 * h * h)
    return g


@pytest.mark.parametrize("ansatz", ["uccsd", "hardware_efficient"])
def test_exact_metric_equals_finite_differences_of_overlaps(h2, ansatz):
    circuit = qvopt.ansatz.build_ansatz(ansatz, h2)
    theta = np.random.default_rng(4).uniform(-1, 1, circuit.num_parameters)
    est = qvopt.Estimator(h2.hamiltonian, circuit)
    assert np.allclose(est.metric(theta).value, overlap_metric(circuit, theta), atol=1e-6)


def test_block_diag_keeps_layer_blocks(h2):
    circuit = qvopt.ansatz.hardware_efficient(h2, layers=1)
    theta = np.random.default_rng(2).uniform(-1, 1, circuit.num_parameters)
    est = qvopt.Estimator(h2.hamiltonian, circuit)
    full = est.metric(theta).value
    block = est.metric(theta, approx="block-diag").value
    diag = est.metric(theta, approx="diag").value
    # layer 1: RY on 4 qubits (prefix = HF basis state), layer 2: RZ on 4 qubits
    assert np.allclose(block[:4, :4], full[:4, :4], atol=1e-12)
    assert np.allclose(block[:4, 4:], 0) and np.allclose(np.diag(diag), np.diag(block))
    assert np.allclose(diag - np.diag(np.diag(diag)), 0)


@pytest.mark.parametrize("approx", [None, "block-diag"])
def test_sampled_metric_converges_within_error_bars(h2, approx):
    circuit = qvopt.ansatz.uccsd(h2)
    theta = np.array([0.3, -0.4, 0.2])
    exact = qvopt.Estimator(h2.hamiltonian, circuit).metric(theta, approx=approx).value
    errors = []
    for shots in (1_000, 100_000):
        est = qvopt.Estimator(h2.hamiltonian, circuit, shots=shots, seed=11)
        m = est.metric(theta, approx=approx)
        assert m.shots == est.metric_cost(approx) > 0
        noisy = m.stderr > 0
        z = np.abs(m.value - exact)[noisy] / m.stderr[noisy]
        assert np.all(z < 5)
        errors.append(np.max(np.abs(m.value - exact)))
    assert errors[1] < errors[0] / 3


def test_sampled_metric_error_bars_match_spread(h2):
    circuit = qvopt.ansatz.uccsd(h2)
    theta = np.array([0.3, -0.4, 0.2])
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=2000, seed=3)
    samples = [est.metric(theta, approx="block-diag") for _ in range(150)]
    values = np.array([s.value[1, 2] for s in samples])
    errs = np.array([s.stderr[1, 2] for s in samples])
    exact = qvopt.Estimator(h2.hamiltonian, circuit).metric(theta, "block-diag").value[1, 2]
    assert abs(values.mean() - exact) < 4 * values.std(ddof=1) / np.sqrt(len(values))
    assert values.std(ddof=1) == pytest.approx(np.sqrt(np.mean(errs**2)), rel=0.25)


def test_fidelity_is_sampled_honestly(h2):
    circuit = qvopt.ansatz.uccsd(h2)
    theta, other = np.array([0.3, -0.4, 0.2]), np.array([0.5, -0.1, 0.0])
    exact = qvopt.Estimator(h2.hamiltonian, circuit).fidelity(theta, other).value
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=500, seed=5)
    f = est.fidelity(theta, np.tile(other, (400, 1)))
    assert np.all(f.value * 500 == np.round(f.value * 500))  # frequencies of whole shots
    assert abs(f.value.mean() - exact) < 4 * f.value.std() / 20
    assert f.value.std(ddof=1) == pytest.approx(np.sqrt(exact * (1 - exact) / 500), rel=0.2)
    assert est.shots_used == 400 * 500


def test_metric_errors(h2):
    est = qvopt.Estimator(h2.hamiltonian, qvopt.ansatz.uccsd(h2))
    with pytest.raises(ValueError, match="approx must be one of"):
        est.metric(np.zeros(3), approx="tridiag")
    with pytest.raises(ValueError, match="approx must be one of"):
        get_optimizer("qng", approx="tridiag")
    with pytest.raises(ValueError, match="lam must be > 0"):
        get_optimizer("qng", lam=0)
