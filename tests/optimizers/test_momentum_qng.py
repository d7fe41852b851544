"""Momentum QNG: two hand-derived steps on one qubit, the ρ = 0 limit, convergence."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

import qvopt
from qvopt.errors import InputError
from qvopt.optimizers import get_optimizer


def one_qubit():
    a, b = Parameter("a"), Parameter("b")
    circuit = QuantumCircuit(1)
    circuit.ry(a, 0)
    circuit.rz(b, 0)
    return circuit


def exact_step(est, opt, state):
    request = opt.ask(state)
    reply = est.answer(opt.params(state), request)
    return opt.tell(state, reply)


def test_two_steps_by_hand():
    # E = ⟨X⟩ = sin a cos b; metric diag(1/4, sin²a/4);
    # a_1 = η M⁻¹∇E(θ0), θ1 = θ0 − a_1; a_2 = ρ a_1 + η M⁻¹∇E(θ1), θ2 = θ1 − a_2
    est = qvopt.Estimator(SparsePauliOp("X"), one_qubit())
    lr, lam, rho = 0.2, 0.01, 0.7
    opt = get_optimizer("momentum_qng", lr=lr, lam=lam, approx=None, momentum=rho)
    assert opt.name == "momentum-qng"

    def natural(theta):
        a, b = theta
        grad = np.array([np.cos(a) * np.cos(b), -np.sin(a) * np.sin(b)])
        metric = np.diag([0.25, np.sin(a) ** 2 / 4]) + lam * np.eye(2)
        return np.linalg.solve(metric, grad)

    theta0 = np.array([0.9, 0.4])
    state = exact_step(est, opt, opt.init(theta0))
    a1 = lr * natural(theta0)
    assert np.allclose(opt.params(state), theta0 - a1)
    state = exact_step(est, opt, state)
    a2 = rho * a1 + lr * natural(theta0 - a1)
    assert np.allclose(opt.params(state), theta0 - a1 - a2)


def test_zero_momentum_is_qng():
    est = qvopt.Estimator(SparsePauliOp("X"), one_qubit())
    plain = get_optimizer("qng", lr=0.1, approx=None)
    heavy = get_optimizer("momentum-qng", lr=0.1, approx=None, momentum=0.0)
    s1, s2 = plain.init(np.array([0.5, 0.3])), heavy.init(np.array([0.5, 0.3]))
    for _ in range(3):
        s1, s2 = exact_step(est, plain, s1), exact_step(est, heavy, s2)
    assert np.allclose(plain.params(s1), heavy.params(s2))


def test_converges_on_one_qubit_and_charges_the_ledger_exactly():
    est = qvopt.Estimator(SparsePauliOp("X"), one_qubit(), shots=50, seed=4)
    opt = get_optimizer("momentum-qng", lr=0.1, momentum=0.5)
    state = opt.init(np.array([0.3, 0.2]))
    for _ in range(60):
        request = opt.ask(state)
        before = est.shots_used
        reply = est.answer(opt.params(state), request)
        assert est.shots_used - before == est.cost(request)
        state = opt.tell(state, reply)
    assert est.exact_energy(opt.params(state)) < -0.99


def test_converges_through_vqe_on_h2(h2):
    result = qvopt.vqe(h2, optimizer="momentum-qng", shots=None, maxiter=40,
                       optimizer_options={"lr": 0.2, "momentum": 0.5})
    assert abs(result.error_mha) < 0.1


def test_momentum_option_is_checked():
    with pytest.raises(InputError, match=r"^momentum-qng: option momentum"):
        get_optimizer("momentum-qng", momentum=1.0)
