"""The PNG of a scan: energies along the coordinate (top) and the error of each point (bottom).

Top: VQE estimates ± stderr, the noiseless energy of the final parameters, HF and FCI
curves, the fitted equilibrium curve and the equilibrium value with its uncertainty band.
Bottom: ``|E(θ_final) − E_FCI|`` (noiseless) in mHa on a log scale, with the
chemical-accuracy band (≤ 1.6 mHa).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..plots import (
    CHEMICAL_ACCURACY_MHA,
    chemical_accuracy_band,
    new_figure,
    save_figure,
)


def plot_scan(scan: Any, path: str | Path) -> Path:
    """Draw a :class:`~qvopt.scan.ScanResult` (or its ``to_dict()``) to the PNG ``path``."""
    return save_figure(scan_figure(scan), path)


def scan_figure(scan: Any):
    """The matplotlib ``Figure`` of :func:`plot_scan`."""
    data = scan.to_dict() if hasattr(scan, "to_dict") else scan
    points = data["points"]
    x = np.array([p["value"] for p in points], dtype=float)

    def column(key):
        return np.array([np.nan if p.get(key) is None else p[key]
                         for p in points], dtype=float)

    figure, axes = new_figure(2, 1, (8, 8), sharex=True, height_ratios=(2, 1))
    top, bottom = axes[0, 0], axes[1, 0]
    _energies(top, x, column)
    _equilibrium(top, data.get("equilibrium"), data.get("coordinate", {}))
    _errors(bottom, x, column("error_mha"))
    bottom.set_xlabel(_axis_label(data.get("coordinate", {})))
    figure.suptitle(_title(data))
    return figure


def _energies(ax, x, column) -> None:
    order = np.argsort(x)
    ax.plot(x[order], column("e_hf")[order], color="grey", ls="--", marker=".",
            label="Hartree–Fock")
    ax.plot(x[order], column("e_fci")[order], color="black", lw=1.2, label="FCI")
    ax.plot(x[order], column("energy_exact")[order], ls="none", marker="o", mfc="none",
            color="tab:orange", label="VQE, noiseless energy of final θ")
    ax.errorbar(x, column("energy"), yerr=column("stderr"), fmt="s", ms=3, capsize=3,
                color="tab:blue", label="VQE estimate ± stderr")
    ax.set_ylabel("energy (Ha)")


def _equilibrium(ax, fit: dict | None, coordinate: dict) -> None:
    if fit and fit.get("value") is not None:
        value, band = fit["value"], fit.get("uncertainty") or 0.0
        ax.axvspan(value - band, value + band, color="tab:red", alpha=0.12, lw=0)
        ax.axvline(value, color="tab:red", lw=1,
                   label=f"equilibrium {value:.3f} ± {band:.3f} {_unit(coordinate)}")
        if fit.get("curve"):
            curve = np.array(fit["curve"], dtype=float)
            ax.plot(curve[:, 0], curve[:, 1], color="tab:red", lw=0.8, alpha=0.7,
                    label=f"{fit.get('method')} fit of the estimates")
    elif fit and fit.get("note"):
        ax.text(0.02, 0.02, "no equilibrium fitted: " + fit["note"].split(":")[0],
                transform=ax.transAxes, fontsize=8, color="tab:red", va="bottom")
    ax.legend(fontsize=8, loc="best")


def _errors(ax, x, errors) -> None:
    finite = np.isfinite(errors)
    if not finite.any():
        ax.text(0.5, 0.5, "no FCI reference (FCI skipped): errors unknown", ha="center",
                va="center", transform=ax.transAxes)
        ax.set_ylabel("|E(θ) − E_FCI| (mHa)")
        return
    magnitude = np.abs(errors[finite])
    floor = max(min(magnitude.min(), CHEMICAL_ACCURACY_MHA) / 3, 1e-6)
    ax.plot(x[finite], np.maximum(magnitude, floor), marker="o", color="tab:orange",
            label="noiseless error of final θ")
    ax.set_yscale("log")
    ax.set_ylim(floor, max(magnitude.max(), CHEMICAL_ACCURACY_MHA) * 3)
    chemical_accuracy_band(ax, floor)
    ax.set_ylabel("|E(θ) − E_FCI| (mHa)")
    ax.legend(fontsize=8, loc="best")


def _unit(coordinate: dict) -> str:
    unit = coordinate.get("unit", "")
    return {"angstrom": "Å", "degree": "°"}.get(unit, unit)


def _axis_label(coordinate: dict) -> str:
    kind = coordinate.get("kind", "coordinate")
    if kind == "geometries":
        return "geometry index"
    atoms = "-".join(str(a) for a in coordinate.get("atoms", []))
    return f"{kind} {atoms} ({_unit(coordinate)})"


def _title(data: dict) -> str:
    config = data.get("config", {})
    shots = config.get("shots") or "exact"
    name = Path(str(data.get("molecule", "?"))).stem
    worst = data.get("max_error_mha")
    tail = f"; max error {worst:.2f} mHa" if worst is not None else ""
    return (f"{name} scan: {config.get('ansatz', '?')} + {config.get('optimizer', '?')}, "
            f"shots={shots}{', warm start' if data.get('warm_start') else ''}{tail}")
