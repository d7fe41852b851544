"""Exact parameter-shift rules, read off the gates of a circuit.

For a parameter θ entering one gate ``exp(−iθG)`` and an energy ``E(θ)``:

* two-term rule, spectrum of G with the single gap 1 (``RX, RY, RZ, RXX, RYY, RZZ, RZX,
  P, CP``):  ``∂E = [E(θ + π/2) − E(θ − π/2)] / 2``;
* four-term rule, spectrum {−½, 0, ½} (gaps ½ and 1: ``CRX, CRY, CRZ`` and the Givens
  excitations of :mod:`qvopt.ansatz.gates`):
  ``∂E = c₊[E(θ + π/2) − E(θ − π/2)] − c₋[E(θ + 3π/2) − E(θ − 3π/2)]``,
  ``c± = (√2 ± 1) / (4√2)`` (Anselmetti et al., New J. Phys. 23, 113010 (2021)).

The same shifted energies and the energy ``E₀`` at θ itself give the diagonal curvature
``h = ∂²E/∂θ²`` exactly (:func:`curvature_weights`), at no extra cost: along one parameter
``E(θ + t)`` is a trigonometric polynomial in the gate's frequencies, fixed by those points:

* two-term (``E = a + b cos t + c sin t``): ``h = [E(θ + π/2) + E(θ − π/2)]/2 − E₀``;
* four-term (frequencies ½ and 1): with ``S₁ = [E(θ ± π/2)]`` and ``S₃ = [E(θ ± 3π/2)]``
  the means of the pairs, ``h = (½ + 3/(4√2)) S₁ + (½ − 3/(4√2)) S₃ − E₀``.

Each parameter must appear in exactly one gate, as the bare parameter (no expression).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME
from ..errors import InputError


@dataclass(frozen=True)
class ShiftRule:
    """``∂E/∂θ = Σ_k coeffs[k] · E(θ + shifts[k])`` and
    ``∂²E/∂θ² = Σ_k curvature[k] · E(θ + shifts[k]) − E(θ)``."""

    shifts: tuple[float, ...]
    coeffs: tuple[float, ...]
    curvature: tuple[float, ...]


TWO_TERM = ShiftRule((np.pi / 2, -np.pi / 2), (0.5, -0.5), (0.5, 0.5))
_C_PLUS = (np.sqrt(2) + 1) / (4 * np.sqrt(2))
_C_MINUS = (np.sqrt(2) - 1) / (4 * np.sqrt(2))
_H_ONE = (0.5 + 3 / (4 * np.sqrt(2))) / 2  # weight of each of E(θ ± π/2) in h
_H_THREE = (0.5 - 3 / (4 * np.sqrt(2))) / 2  # weight of each of E(θ ± 3π/2)
FOUR_TERM = ShiftRule((np.pi / 2, -np.pi / 2, 3 * np.pi / 2, -3 * np.pi / 2),
                      (_C_PLUS, -_C_PLUS, -_C_MINUS, _C_MINUS),
                      (_H_ONE, _H_ONE, _H_THREE, _H_THREE))

RULES_BY_GATE = {
    **{name: TWO_TERM for name in ("rx", "ry", "rz", "rxx", "ryy", "rzz", "rzx", "p", "cp")},
    **{name: FOUR_TERM for name in ("crx", "cry", "crz", SINGLE_NAME, DOUBLE_NAME)},
}


def shift_rules(circuit: QuantumCircuit) -> list[ShiftRule]:
    """One rule per parameter, in ``circuit.parameters`` order; clear error if unsupported."""
    found: dict[Parameter, ShiftRule] = {}
    for instruction in circuit.data:
        op = instruction.operation
        for value in op.params:
            params = getattr(value, "parameters", None)
            if not params:
                continue
            if not isinstance(value, Parameter):
                raise InputError(
                    f"gate {op.name!r} has the parameter expression {value}: parameter-shift "
                    "gradients need each gate angle to be a bare Parameter"
                )
            if value in found:
                raise InputError(
                    f"parameter {value.name!r} appears in more than one gate: parameter-shift "
                    "gradients here need each parameter in exactly one gate"
                )
            if op.name not in RULES_BY_GATE:
                raise InputError(
                    f"no parameter-shift rule for gate {op.name!r} (parameter {value.name!r}); "
                    f"supported gates: {sorted(RULES_BY_GATE)}"
                )
            found[value] = RULES_BY_GATE[op.name]
    return [found[p] for p in circuit.parameters]


def shifted_points(theta: np.ndarray, rules: list[ShiftRule]) -> tuple[np.ndarray, np.ndarray]:
    """All shifted points of a gradient, and the weights mapping their energies to ∂E.

    Returns ``points`` (M, p) and ``weights`` (p, M) with ``∇E = weights @ E(points)``.
    """
    theta = np.asarray(theta, dtype=float)
    n_points = sum(len(r.shifts) for r in rules)
    points = np.repeat(theta[None, :], n_points, axis=0)
    weights = np.zeros((len(rules), n_points))
    row = 0
    for i, rule in enumerate(rules):
        for shift, coeff in zip(rule.shifts, rule.coeffs, strict=True):
            points[row, i] += shift
            weights[i, row] = coeff
            row += 1
    return points, weights


def curvature_weights(rules: list[ShiftRule]) -> np.ndarray:
    """(p, M) weights, rows as :func:`shifted_points`' ``weights``, with
    ``∂²E/∂θ_i² = (weights @ E(points))_i − E(θ)`` (see the module docstring)."""
    n_points = sum(len(r.shifts) for r in rules)
    weights = np.zeros((len(rules), n_points))
    row = 0
    for i, rule in enumerate(rules):
        weights[i, row:row + len(rule.shifts)] = rule.curvature
        row += len(rule.shifts)
    return weights


def points_per_parameter(rules: list[ShiftRule]) -> np.ndarray:
    """Number of shifted points of each parameter (2 or 4), in the order of
    :func:`shifted_points`' rows."""
    return np.array([len(r.shifts) for r in rules], dtype=np.int64)


def curvature_from_energies(rules: list[ShiftRule], energy: float, energy_variance: float,
                            shifted: np.ndarray, shifted_variances: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """``∂²E/∂θ_i² = (w @ E(shifted))_i − E(θ)`` with :func:`curvature_weights` ``w``, and
    its variance ``(w² @ Var(E(shifted)))_i + Var(E(θ))`` (independent samples)."""
    weights = curvature_weights(rules)
    return (weights @ shifted - energy,
            weights**2 @ shifted_variances + energy_variance)


def gradient_from_energies(weights: np.ndarray, values: np.ndarray, variances: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """``∂_iE = Σ_k w_ik E_k`` and ``Var(∂_iE) = Σ_k w_ik² Var(E_k)`` (the shifted energies
    are independent samples)."""
    return weights @ values, (weights**2) @ variances
