"""Plots of one VQE run: energy and error vs iteration and vs cumulative shots.

    qvopt.plots.plot_run(result, "run.png")          # a VQEResult, its dict, or result.json
    qvopt plot result.json [-o run.png]               # the same from the command line

Four panels: the noiseless energy of the iterates with the FCI line and the
chemical-accuracy band above it, each iteration's estimate behind them as a faint point with
its ±stderr bar (left; the axis follows the noiseless curve, so shot noise does not hide
it), and the errors ``|E − E_FCI|`` in mHa on a log scale with the 1.6 mHa line (right),
where the point the run reached chemical accuracy for good is starred; per iteration (top)
and per cumulative shots (bottom, what the run paid). Legends sit under the panels.
``qvopt plot`` also draws a scan's JSON (``"points"``, see :mod:`qvopt.scan`).

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend
switch), so the functions are safe in notebooks and threads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

CHEMICAL_ACCURACY_MHA = 1.6
HA_TO_MHA = 1000.0
DPI = 110


# ------------------------------------------------------------------ figure helpers
def new_figure(nrows: int, ncols: int, figsize: tuple[float, float], **grid):
    """``(figure, axes)`` on an Agg canvas (``axes`` as from ``subplots``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=False, **grid)
    return figure, axes


def save_figure(figure, path: str | Path) -> Path:
    """Write ``figure`` as PNG to ``path`` (folders created), atomically and never through a
    symlink (:mod:`qvopt.io`); returns the path."""
    from .io import save_figure_atomic

    return save_figure_atomic(figure, path, dpi=DPI)


def chemical_accuracy_band(ax, low: float) -> None:
    """Shade ``[low, 1.6]`` mHa and draw the 1.6 mHa line on an error axis."""
    ax.axhspan(low, CHEMICAL_ACCURACY_MHA, color="tab:green", alpha=0.12, lw=0)
    ax.axhline(CHEMICAL_ACCURACY_MHA, color="tab:green", lw=1.2, ls="--",
               label=f"chemical accuracy ({CHEMICAL_ACCURACY_MHA} mHa)")


# ------------------------------------------------------------------ input
def load_result(source: Any) -> dict:
    """A run's result as a plain dict: a :class:`~qvopt.vqe.VQEResult`, its ``to_dict()``,
    or the path of a result JSON (``qvopt run --out``)."""
    if isinstance(source, (str, Path)):
        return read_json(source, "result")
    if hasattr(source, "to_dict"):
        return source.to_dict()
    if isinstance(source, dict):
        return source
    raise InputError(f"expected a VQEResult, a result dict or a result JSON path, got "
                     f"{type(source).__name__}")


def read_json(path: str | Path, kind: str) -> dict:
    """Parse a JSON file; errors name the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{kind} file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read {kind} JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _history(result: dict) -> dict[str, np.ndarray]:
    history = result.get("history")
    if not history:
        raise InputError("the result has no 'history' to plot (expected the JSON written by "
                         "`qvopt run --out`)")
    keys = ("iteration", "energy", "stderr", "energy_exact", "shots")
    try:
        return {k: np.array([np.nan if h.get(k) is None else h[k] for h in history],
                            dtype=float) for k in keys}
    except (AttributeError, TypeError, ValueError) as exc:
        raise InputError(f"the result's 'history' is malformed ({exc})") from None


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


# ------------------------------------------------------------------ one run
def plot_run(result: Any, path: str | Path) -> Path:
    """Plot one run (see the module docstring) to the PNG ``path``; returns it."""
    return save_figure(run_figure(result), path)


def run_figure(result: Any):
    """The matplotlib ``Figure`` of :func:`plot_run` (for notebooks)."""
    data = load_result(result)
    h = _history(data)
    e_fci, e_hf = _finite(data.get("e_fci")), _finite(data.get("e_hf"))
    figure, axes = new_figure(2, 2, (11, 8.5))
    reached = _finite(data.get("shots_to_chemical_accuracy"))
    for row, (x, label) in enumerate(((h["iteration"], "iteration"),
                                      (np.maximum(h["shots"], 1), "cumulative shots"))):
        _energy_panel(axes[row, 0], x, h, e_fci, e_hf)
        _error_panel(axes[row, 1], x, h, e_fci, reached if row == 1 else None)
        for ax in axes[row]:
            ax.set_xlabel(label)
            if row == 1:
                _log_x(ax)
    # one legend under the panels (constrained layout keeps it outside): never over data
    entries: dict[str, Any] = {}
    for ax in axes[1]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    figure.legend(list(entries.values()), list(entries), loc="outside lower center",
                  fontsize=8, ncol=3, frameon=False)
    figure.suptitle(_title(data, e_fci))
    return figure


def _log_x(ax) -> None:
    """Log x axis labelled at decades only (minor labels crowd a short range)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())


def _energy_panel(ax, x, h, e_fci, e_hf) -> None:
    """Noiseless energy, FCI and its accuracy band in front; each iteration's estimate as a
    faint point with its ± stderr bar behind (the axis follows the noiseless curve, so
    per-iteration noise of tens of mHa does not hide the rest)."""
    ax.errorbar(x, h["energy"], yerr=h["stderr"], fmt="o", ms=2, lw=0.5, alpha=0.2,
                color="tab:blue", label="estimate ± stderr (each iteration)")
    ax.plot(x, h["energy_exact"], color="tab:orange", lw=1.8, label="noiseless energy")
    if e_hf is not None:
        ax.axhline(e_hf, color="grey", ls=":", lw=1, label="Hartree–Fock")
    if e_fci is not None:
        ax.axhspan(e_fci, e_fci + CHEMICAL_ACCURACY_MHA / HA_TO_MHA, color="tab:green",
                   alpha=0.2, lw=0, label="FCI + chemical accuracy")
        ax.axhline(e_fci, color="black", lw=1, label="FCI")
        _zoom_energy(ax, h, e_fci)
    ax.set_ylabel("energy (Ha)")


def _zoom_energy(ax, h, e_fci: float) -> None:
    """The noiseless curve, FCI and the accuracy band fill the axis; estimates beyond it
    are clipped (their spread is on the error panel)."""
    values = h["energy_exact"][np.isfinite(h["energy_exact"])]
    if values.size:
        top = max(values.max(), e_fci + CHEMICAL_ACCURACY_MHA / HA_TO_MHA)
        bottom = min(values.min(), e_fci)
        pad = 0.15 * max(top - bottom, 2 * CHEMICAL_ACCURACY_MHA / HA_TO_MHA)
        ax.set_ylim(bottom - pad, top + pad)


def _error_panel(ax, x, h, e_fci, reached: float | None = None) -> None:
    if e_fci is None:
        ax.text(0.5, 0.5, "no FCI reference: error unknown", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_ylabel("|E − E_FCI| (mHa)")
        return
    noisy = np.abs(h["energy"] - e_fci) * HA_TO_MHA
    exact = np.abs(h["energy_exact"] - e_fci) * HA_TO_MHA
    floor = max(np.nanmin(np.concatenate([exact, noisy, [CHEMICAL_ACCURACY_MHA]])) / 3,
                1e-6)
    ax.plot(x, np.maximum(noisy, floor), "o", ms=2, color="tab:blue", alpha=0.35,
            label="|estimate − FCI| (each iteration)")
    ax.plot(x, h["stderr"] * HA_TO_MHA, color="tab:blue", ls=":", lw=1,
            label="stderr of the estimate")
    ax.plot(x, np.maximum(exact, floor), color="tab:orange", lw=1.8,
            label="|noiseless − FCI|")
    if reached is not None:
        at = int(np.searchsorted(h["shots"], reached))
        if at < len(exact):
            ax.plot([reached], [max(exact[at], floor)], "*", ms=12, color="tab:red",
                    label=f"chemical accuracy reached for good ({reached:.3g} shots)")
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    chemical_accuracy_band(ax, floor)
    ax.set_ylabel("|E − E_FCI| (mHa)")


def _title(data: dict, e_fci: float | None) -> str:
    shots = data.get("shots")
    setting = ("exact energies" if not shots else
               f"{shots} shots per evaluation ({data['allocation']})" if data.get("allocation")
               else f"{shots} shots per group")
    parts = [(f"VQE {data.get('molecule', '?')}: {data.get('ansatz', '?')} + "
              f"{data.get('optimizer', '?')}, {setting}")]
    error = _finite(data.get("error_mha"))
    if e_fci is not None and error is not None:
        parts.append(f"final error {error:.3f} mHa, {int(data.get('shots_used') or 0):,} shots")
    return " — ".join(parts)
