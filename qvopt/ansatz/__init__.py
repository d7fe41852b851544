"""Parameterized circuits for a :class:`~qvopt.chem.Problem`. One family a module."""

from __future__ import annotations

import inspect

from qiskit.circuit import QuantumCircuit

from ..chem.problem import Problem
from ..errors import InputError
from .hardware_efficient import hardware_efficient
from .uccsd import uccsd

ANSATZE = {"uccsd": uccsd, "hardware_efficient": hardware_efficient}
ALIASES = {"hea": "hardware_efficient"}


def check_ansatz_options(name: str, options: dict) -> str:
    """The canonical ansatz name; unknown names or options are an :class:`InputError`."""
    key = ALIASES.get(name, name)
    if key not in ANSATZE:
        raise InputError(f"unknown ansatz {name!r}: expected one of {sorted(ANSATZE)} or "
                         "'hea'")
    valid = [p for p in inspect.signature(ANSATZE[key]).parameters if p != "problem"]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for ansatz {key!r}; valid: {valid}")
    return key


def build_ansatz(name: str, problem: Problem, **options) -> QuantumCircuit:
    """Build the ansatz called ``name`` (``"uccsd"``, ``"hardware_efficient"``/``"hea"``)."""
    return ANSATZE[check_ansatz_options(name, options)](problem, **options)


__all__ = ["ANSATZE", "build_ansatz", "check_ansatz_options", "hardware_efficient", "uccsd"]
