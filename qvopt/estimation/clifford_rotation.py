"""Applying a fully commuting group's Clifford to batched statevectors (numpy).

States are rows of a ``(P, 2^n)`` array; amplitude ``x`` is ``⟨x|ψ⟩`` with qubit ``q`` ↔
bit ``q`` of ``x`` (qiskit's little-endian order). Gates, as qiskit defines them:

* ``h(q)``: ``(a0, a1) → (a0 + a1, a0 − a1)/√2`` on the pairs differing in bit ``q``;
* ``cx(c, t)``: ``|x⟩ → |x ⊕ (x_c << t)⟩``;  ``cz(a, b)``: ``(−1)^{x_a x_b}``;
  ``s(q)``: ``i^{x_q}``.

A Clifford is compiled once into **steps**: every run of gates without ``h`` maps basis
states to basis states with a phase, ``|x⟩ → φ(x)|π(x)⟩``, and becomes one gather
``ψ'[y] = φ(π⁻¹(y)) ψ[π⁻¹(y)]``; each ``h`` is one butterfly pass, applied unnormalised
(``√2 H``) with the factor ``2^{−h/2}`` folded into the probabilities.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .commuting import CommutingGroup, Gate, cancel_hadamard_pairs


@dataclass(frozen=True)
class Permutation:
    """``ψ'[y] = phase[y] · ψ[source[y]]`` (one run of ``cx``/``cz``/``s`` gates)."""

    source: np.ndarray
    phase: np.ndarray | None  # None: all +1


def _permutation(run: Sequence[Gate], n_qubits: int) -> Permutation:
    x = np.arange(2**n_qubits, dtype=np.int64)
    y = x.copy()
    power = np.zeros(len(x), dtype=np.int64)  # phase i^power
    for name, qubits in run:
        if name == "cx":
            c, t = qubits
            y ^= ((y >> c) & 1) << t
        elif name == "cz":
            a, b = qubits
            power += 2 * ((y >> a) & (y >> b) & 1)
        elif name == "s":
            power += (y >> qubits[0]) & 1
        else:
            raise ValueError(f"not a permutation gate: {name!r}")
    source = np.empty_like(x)
    source[y] = x
    power = power[source] % 4
    if not power.any():
        return Permutation(source, None)
    return Permutation(source, (1j) ** power)


def compile_clifford(gates: Sequence[Gate], n_qubits: int) -> list[int | Permutation]:
    """Steps of ``gates``: an int ``q`` is a butterfly on qubit ``q``, else a gather."""
    steps: list[int | Permutation] = []
    run: list[Gate] = []
    for name, qubits in cancel_hadamard_pairs(gates):
        if name == "h":
            if run:
                steps.append(_permutation(run, n_qubits))
                run = []
            steps.append(qubits[0])
        else:
            run.append((name, qubits))
    if run:
        steps.append(_permutation(run, n_qubits))
    return steps


def _butterfly(states: np.ndarray, qubit: int) -> np.ndarray:
    """Unnormalised ``√2 H`` on ``qubit`` for every row."""
    view = states.reshape(-1, 2, 2**qubit)
    out = np.empty_like(view)
    np.add(view[:, 0], view[:, 1], out=out[:, 0])
    np.subtract(view[:, 0], view[:, 1], out=out[:, 1])
    return out.reshape(states.shape)


def apply_steps(steps: Sequence[int | Permutation], states: np.ndarray
                ) -> tuple[np.ndarray, int]:
    """``(√2^h U ψ, h)`` for the rows of ``states`` (P, 2^n): the rotated states times
    ``2^{h/2}``, ``h`` the number of butterflies."""
    out = states
    n_h = 0
    for step in steps:
        if isinstance(step, Permutation):
            out = out[:, step.source]
            if step.phase is not None:
                out = out * step.phase.astype(np.result_type(out.dtype, np.complex64),
                                              copy=False)
        else:
            out = _butterfly(out, step)
            n_h += 1
    return out, n_h


def rotate(group: CommutingGroup, states: np.ndarray) -> np.ndarray:
    """``U ψ`` for every row of ``states`` (P, 2^n) (normalised; a convenience for tests)."""
    rotated, n_h = apply_steps(compile_clifford(group.gates, group.n_qubits),
                               np.asarray(states, dtype=complex))
    return rotated * 0.5 ** (n_h / 2)


class CliffordProgram:
    """The compiled Cliffords of a list of FC groups; the counterpart of
    :class:`~.sampling.RotationProgram` for :class:`~.commuting.CommutingGroup`."""

    def __init__(self, groups: Sequence[CommutingGroup], n_qubits: int):
        self.steps = [compile_clifford(g.gates, n_qubits) for g in groups]

    def run(self, states: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(k, p)``: Born probabilities ``|⟨x|U_k ψ⟩|²`` (rows sum to 1) of the
        rows of ``states`` after group ``k``'s Clifford."""
        for k, steps in enumerate(self.steps):
            rotated, n_h = apply_steps(steps, states)
            probs = rotated.real**2 + rotated.imag**2 if np.iscomplexobj(rotated) \
                else rotated**2
            probs *= 0.5**n_h
            yield k, probs
