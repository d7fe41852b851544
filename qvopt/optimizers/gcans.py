"""gCANS: global Coupled Adaptive Number of Shots (Gu et al., arXiv:2108.10434).

The iCANS loop (:mod:`.icans`: same averages χ, ξ with bias correction, same step
``θ ← θ − α g``, same Lipschitz/learning-rate convention) with the shots chosen to maximise
the expected gain of the *whole* step per shot spent on it. With per-component standard
deviations ``σ_i = √ξ̂_i`` the expected gain of a step is
``(α − Lα²/2)‖∇E‖² − (Lα²/2) Σ_i σ_i²/s_i``; maximising it divided by ``Σ_i s_i`` gives
``s_i ∝ σ_i`` and

    s_i = ⌈ 2Lα / (2 − Lα) · σ_i Σ_j σ_j / (‖χ̂‖² + b μ^t) ⌉,     s_i ≥ s_min

(``max_shots``, if given, caps every ``s_i``; there is no ``argmax γ`` cap as in iCANS).

With per-component rates ``α_i`` (``lipschitz="measured"``: ``α_i = β/L_i``, see
:mod:`.icans`) the same maximisation of ``Σ_i α_i[(1 − β/2)χ̂_i² − βσ_i²/(2s_i)] / Σ s``
gives ``s_i = 2β/(2 − β) · √α_i σ_i Σ_j √α_j σ_j / (Σ_j α_j χ̂_j² + ᾱ b μ^t)``, which
is the rule above when every ``α_i = α`` (``β = αL``).
"""

from __future__ import annotations

import numpy as np

from .icans import _CoupledAdaptiveShots


class GCANS(_CoupledAdaptiveShots):
    """gCANS (see the module docstring for the shot rule)."""

    name = "gcans"

    def next_shots(self, chi_hat, xi_hat, t, alpha):
        beta = self.beta
        weighted = np.sqrt(alpha * np.maximum(xi_hat, 0.0))  # √α_i σ_i
        signal = float(np.sum(alpha * chi_hat**2)) + float(np.mean(alpha)) * self.b * self.mu**t
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = 2 * beta / (2 - beta) * weighted * weighted.sum() / signal
        return self._ceil_shots(raw), np.ones(len(weighted))
