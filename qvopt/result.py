"""``VQEResult``: what a run reports (SciPy's ``OptimizeResult`` fields plus VQE bookkeeping).

Its own module, below the runs that make it (:mod:`qvopt.vqe`, :mod:`qvopt.adapt`), so
neither imports the other for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .accuracy import CHEMICAL_ACCURACY_MHA

__all__ = ["VQEResult"]


class VQEResult(OptimizeResult):
    """scipy ``OptimizeResult`` fields plus VQE bookkeeping.

    ``x``: final parameters; ``fun``: estimated energy at ``x`` (``stderr`` its standard
    error); ``jac``: last gradient estimate (or None); ``nit``: optimizer updates;
    ``nfev``: energy evaluations (parameter points) charged; ``success``/``status`` (a
    :class:`~qvopt.driver.Status`)/``message``; ``energy_exact``: noiseless energy at
    ``x``; ``e_fci``; ``error_mha``: ``(energy_exact − e_fci)`` in mHa; ``shots_used``:
    Σ shots of every circuit execution; ``wall_time`` (s, set-up included); ``history``:
    one dict per evaluated iterate (``iteration, energy, stderr, energy_exact, shots,
    time``), the last one at ``x``; ``config``: the whole run configuration;
    ``final_shots``: shots of the final energy measurement (to ``final_precision`` when
    set; included in ``shots_used``);
    ``shots_to_chemical_accuracy`` / ``iterations_to_chemical_accuracy``: cumulative shots
    and iteration at which the noiseless error entered 1.6 mHa *for good* (None if never;
    see :mod:`qvopt.accuracy`).
    """

    @property
    def within_chemical_accuracy(self) -> bool:
        return abs(self.error_mha) <= CHEMICAL_ACCURACY_MHA

    SUMMARY_FIELDS = ("fun", "stderr", "error_mha", "nit", "shots_used",
                      "shots_to_chemical_accuracy", "success", "message")

    def __repr__(self) -> str:
        """The headline fields on one line (the full record is ``to_dict()``)."""
        shown = ", ".join(f"{key}={self.get(key)!r}" for key in self.SUMMARY_FIELDS
                          if key in self)
        return f"VQEResult({shown})"

    def plot(self, path: str | Path) -> Path:
        """Energy and error vs iteration and cumulative shots as a PNG (see
        :func:`qvopt.plots.plot_run`)."""
        from .plots import plot_run

        return plot_run(self, path)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (numpy arrays become lists)."""
        out = {}
        for key, value in self.items():
            if isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, np.generic):
                value = value.item()
            out[key] = value
        out["status"] = int(self.status)
        out["energy"] = out.get("fun")
        out["within_chemical_accuracy"] = self.within_chemical_accuracy
        return out
