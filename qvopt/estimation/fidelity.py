"""State fidelities ``F = |⟨ψ(θ)|ψ(θ')⟩|²``, exact or sampled by compute–uncompute.

The circuit ``U(θ')†U(θ)|0⟩`` measured ``N`` times gives the all-zeros outcome with
probability ``F``; its count is ``Binomial(N, F)``, so

    F̂ = k / N,        Var(F̂) ≈ F̂(1 − F̂) / (N − 1)

(the unbiased estimate of ``F(1 − F)/N``; ``nan`` for ``N = 1``). One circuit execution of
``N`` shots per θ'. The binomial is drawn from the exact fidelity of the statevectors.
"""

from __future__ import annotations

import numpy as np


def sample_fidelities(exact: np.ndarray, shots: int | None, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(F̂, Var F̂)`` for each exact fidelity in ``exact``; ``shots=None`` returns
    ``(exact, 0)``."""
    exact = np.clip(np.asarray(exact, dtype=float), 0.0, 1.0)
    if shots is None:
        return exact, np.zeros_like(exact)
    estimate = rng.binomial(shots, exact) / shots
    if shots > 1:
        return estimate, estimate * (1 - estimate) / (shots - 1)
    return estimate, np.full_like(estimate, np.nan)
