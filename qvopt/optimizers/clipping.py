"""Gradient clipping as stateless links of a chain (put them first, on the raw gradient).

The bounds are named after the registry options that set them (``clip_norm``, ``clip_value``).
"""

from __future__ import annotations

import numpy as np

from .base import EmptyState, GradientTransformation, check_number


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """``g ← g · min(1, c / ‖g‖₂)`` with ``c = max_norm``: rescale only if the norm exceeds c."""
    max_norm = check_number("clip_norm", max_norm, 0.0, low_open=True)

    def update(updates, state, params=None, **extra):
        norm = float(np.linalg.norm(updates))
        if norm > max_norm:
            updates = updates * (max_norm / norm)
        return updates, state

    return GradientTransformation(lambda params: EmptyState(), update)


def clip_by_value(max_value: float) -> GradientTransformation:
    """``g_i ← min(max(g_i, −c), c)`` element-wise, ``c = max_value``."""
    max_value = check_number("clip_value", max_value, 0.0, low_open=True)

    def update(updates, state, params=None, **extra):
        return np.clip(updates, -max_value, max_value), state

    return GradientTransformation(lambda params: EmptyState(), update)
