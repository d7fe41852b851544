"""Parameterized circuits for a :class:`~qvopt.chem.Problem`. One family a module."""

from __future__ import annotations

from qiskit.circuit import QuantumCircuit

from ..chem.problem import Problem
from .hardware_efficient import hardware_efficient
from .uccsd import uccsd

ANSATZE = {"uccsd": uccsd, "hardware_efficient": hardware_efficient}


def build_ansatz(name: str, problem: Problem, **options) -> QuantumCircuit:
    """Build the ansatz called ``name`` (``"uccsd"``, ``"hardware_efficient"``/``"hea"``)."""
    key = {"hea": "hardware_efficient"}.get(name, name)
    if key not in ANSATZE:
        raise ValueError(f"unknown ansatz {name!r}: expected one of {sorted(ANSATZE)} or 'hea'")
    return ANSATZE[key](problem, **options)


__all__ = ["ANSATZE", "build_ansatz", "hardware_efficient", "uccsd"]
