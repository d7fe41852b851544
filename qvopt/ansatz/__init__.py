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
    if key == "adapt":  # grown during the run by qvopt.adapt, not built up front
        from .pool import ANSATZ_OPTIONS

        unknown = sorted(set(options) - set(ANSATZ_OPTIONS))
        if unknown:
            raise InputError(f"unknown option(s) {unknown} for ansatz 'adapt'; valid: "
                             f"{list(ANSATZ_OPTIONS)}")
        return key
    if key not in ANSATZE:
        raise InputError(f"unknown ansatz {name!r}: expected one of {sorted(ANSATZE)}, 'hea' "
                         "or 'adapt'")
    valid = [p for p in inspect.signature(ANSATZE[key]).parameters if p != "problem"]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for ansatz {key!r}; valid: {valid}")
    return key


def build_ansatz(name: str, problem: Problem, **options) -> QuantumCircuit:
    """Build the ansatz called ``name`` (``"uccsd"``, ``"hardware_efficient"``/``"hea"``)."""
    key = check_ansatz_options(name, options)
    if key == "adapt":
        raise InputError("ansatz 'adapt' grows its circuit during the run: run it with "
                         "qvopt.run / qvopt run --ansatz adapt (no fixed circuit to build)")
    return ANSATZE[key](problem, **options)


__all__ = ["ANSATZE", "build_ansatz", "check_ansatz_options", "hardware_efficient", "uccsd"]
