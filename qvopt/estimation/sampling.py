"""Honest shot sampling from statevectors, one measurement basis per QWC group.

For each parameter point the state ``|ψ⟩`` is rotated into a group's measurement basis
(``H`` on X qubits, ``H S†`` on Y qubits) and the Born probabilities
``p(x) = |⟨x|U_g ψ⟩|²`` are formed. ``shots`` outcomes are drawn from them as one
multinomial sample, over the group's outcome classes (outcomes giving all of its terms the
same signs, see :class:`~.grouping.OutcomeClasses`: the same distribution as drawing
outcomes one by one). The group's estimate is the sample mean of the per-shot value
``v_g`` and its variance the unbiased sample variance over shots divided by ``shots``.

Rotations are shared between groups through a trie over the qubits: groups whose bases
agree on qubits ``0 … k`` reuse the state rotated on those qubits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


def _rotate(states: np.ndarray, qubit: int, basis: str) -> np.ndarray:
    """Unnormalised basis change on ``qubit``: ``√2·H`` for X, ``√2·H S†`` for Y.

    X: (a0, a1) → (a0 + a1, a0 − a1);  Y: (a0, a1) → (a0 − i a1, a0 + i a1).
    Each call doubles the squared norm; callers divide by ``2^k`` afterwards.
    """
    view = states.reshape(-1, 2, 2**qubit)
    a0, a1 = view[:, 0, :], view[:, 1, :]
    if basis == "Y":
        a1 = a1 * (-1j)
    out = np.empty_like(view)
    np.add(a0, a1, out=out[:, 0, :])
    np.subtract(a0, a1, out=out[:, 1, :])
    return out.reshape(states.shape)


class RotationProgram:
    """The rotation trie of a set of bases, compiled once into a flat list of steps.

    Executing it on a block of states yields ``(k, p)`` for every basis ``k``: the Born
    probabilities of the block in basis ``k``. Groups whose bases agree on qubits
    ``0 … q`` share the state rotated on those qubits.
    """

    def __init__(self, bases: Sequence[str]):
        self.n_bases = len(bases)
        self.steps: list[tuple] = []  # ("rotate", depth, qubit, char) | ("leaf", depth, k's, r)
        self.max_depth = 0

        def build(members: list[int], qubit: int, depth: int, rotated: int):
            n_qubits = len(bases[members[0]])
            if qubit == n_qubits:
                self.steps.append(("leaf", depth, tuple(members), rotated))
                return
            by_char: dict[str, list[int]] = {}
            for k in members:
                by_char.setdefault(bases[k][qubit], []).append(k)
            for char, sub in sorted(by_char.items()):
                if char == "Z":
                    build(sub, qubit + 1, depth, rotated)
                else:
                    self.steps.append(("rotate", depth, qubit, char))
                    self.max_depth = max(self.max_depth, depth + 1)
                    build(sub, qubit + 1, depth + 1, rotated + 1)

        if bases:
            build(sorted(range(len(bases)), key=lambda k: bases[k]), 0, 0, 0)

    def run(self, states: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(k, probabilities)`` for every basis (rows of ``states`` are points)."""
        slots = [states] + [None] * self.max_depth
        for step in self.steps:
            if step[0] == "rotate":
                _, depth, qubit, char = step
                slots[depth + 1] = _rotate(slots[depth], qubit, char)
            else:
                _, depth, members, rotated = step
                current = slots[depth]
                probs = current.real**2 + current.imag**2
                probs *= 0.5**rotated
                for k in members:
                    yield k, probs


def rotated_probabilities(states: np.ndarray, bases: Sequence[str]
                          ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(k, p)``: Born probabilities (rows sum to 1) of ``states`` in ``bases[k]``.

    ``bases[k]`` lists the measurement basis of each qubit, qubit 0 first ("X", "Y", "Z").
    """
    yield from RotationProgram(bases).run(states)


def reduce_counts(counts: np.ndarray, values: np.ndarray, shots) -> tuple[np.ndarray,
                                                                        np.ndarray]:
    """Sample mean of the per-shot value and the variance of that mean, from counts.

    ``counts`` (P, K): how often each of ``K`` outcomes (or outcome classes) was seen in each
    of ``P`` samples; ``values`` (K,): the value of each outcome; ``shots``: one int or (P,)
    ints, the row sums of ``counts``. With ``n`` shots,

        m = Σ_k n_k v_k / n,    s² = (Σ_k n_k v_k² / n − m²) · n / (n − 1),    Var(m) = s² / n,

    i.e. ``Var(m) = (Σ_k n_k v_k² / n − m²) / (n − 1)`` (``nan`` when ``n == 1``; ``m`` is
    ``nan`` too when ``n == 0``). Every counts-based sampler (statevector multinomials,
    measured circuits, PennyLane) uses it.
    """
    shots = np.asarray(shots)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = counts @ values / shots
        second = counts @ (values * values) / shots
        spread = np.maximum(second - mean**2, 0.0)
        var_of_mean = np.where(shots > 1, spread / np.maximum(shots - 1, 1), np.nan)
    return mean, var_of_mean


def sample_class_means(class_probs: np.ndarray, values: np.ndarray, shots,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``shots`` outcomes per row of ``class_probs``; return (mean v, variance of mean).

    ``shots`` is one int or (P,) ints, one per row. One multinomial draw per row, in row
    order; see :func:`reduce_counts` for the reduction.
    """
    class_probs = np.clip(class_probs, 0.0, None)
    class_probs /= class_probs.sum(axis=1, keepdims=True)
    counts = rng.multinomial(shots, class_probs)
    return reduce_counts(counts, values, shots)
