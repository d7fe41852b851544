"""Checks of what an :class:`~.estimator.Estimator` is handed: the Hamiltonian and circuit
it is built on, and explicit per-group shot counts (shot counts and parameter points are
checked by :func:`.base.validate_shots` and :func:`.base.as_points`)."""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .base import validate_shots

__all__ = ["check_group_shots", "check_problem"]


def check_problem(hamiltonian: object, circuit: object) -> None:
    """A TypeError unless ``hamiltonian`` is a ``SparsePauliOp`` and ``circuit`` a
    ``QuantumCircuit``; an InputError unless they act on the same qubits and every
    coefficient is finite and real (Hermitian)."""
    if not isinstance(hamiltonian, SparsePauliOp):
        raise TypeError(f"hamiltonian must be a qiskit SparsePauliOp, got "
                        f"{type(hamiltonian).__name__}")
    if not isinstance(circuit, QuantumCircuit):
        raise TypeError(f"circuit must be a qiskit QuantumCircuit, got "
                        f"{type(circuit).__name__}")
    if hamiltonian.num_qubits != circuit.num_qubits:
        raise InputError(f"hamiltonian acts on {hamiltonian.num_qubits} qubits but the "
                         f"circuit has {circuit.num_qubits}")
    coeffs = np.asarray(hamiltonian.coeffs)
    if not np.all(np.isfinite(coeffs)):
        bad = int(np.flatnonzero(~np.isfinite(coeffs))[0])
        raise InputError(f"hamiltonian coefficient {bad} ({hamiltonian.paulis[bad]}) is "
                         f"{coeffs[bad]}: every coefficient must be a finite number")
    if np.any(np.abs(coeffs.imag) > 1e-10 * max(1.0, float(np.max(np.abs(coeffs))))):
        raise InputError("hamiltonian must be Hermitian: its Pauli coefficients must be real")


def check_group_shots(group_shots: object, n_groups: int) -> np.ndarray:
    """``group_shots`` as (G,) int64 with every count valid shots, or an InputError
    naming it."""
    try:
        shots = np.asarray(group_shots)
    except (TypeError, ValueError) as exc:
        raise InputError(f"group_shots must be {n_groups} positive integers") from exc
    if shots.shape != (n_groups,):
        raise InputError(f"group_shots must have shape ({n_groups},) (one count per "
                         f"measurement group), got shape {shots.shape}")
    for value in shots.tolist():
        validate_shots(value, "group_shots")
    return shots.astype(np.int64)
