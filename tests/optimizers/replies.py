"""A hand-made :class:`Reply` for stepping ask/tell optimizers by hand in tests."""

from __future__ import annotations

import numpy as np

from qvopt.estimation.base import Estimate
from qvopt.optimizers.ask_tell import Reply


def reply(grad, stderr) -> Reply:
    """A reply whose gradient is ``grad`` ± ``stderr`` (the energy is irrelevant: 0)."""
    grad = np.asarray(grad, dtype=float)
    return Reply(value=Estimate(0.0, 0.0, 0), gradient=Estimate(grad, np.asarray(stderr), 0))
