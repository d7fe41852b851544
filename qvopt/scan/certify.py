"""What a scan's fit may use and claim: points the runs did not converge are not fitted.

A point is **uncertified** when its own measurements show the run did not get there, at
z = 3 standard errors of its final energy ``E ± σ``:

* ``E − 3σ > E_HF``: the run ended above Hartree–Fock (no correlation energy at all);
* ``E − 3σ > E_FCI + 1.6 mHa`` (when the problem's FCI energy is known): clearly outside
  chemical accuracy;
* the run stopped as diverged or failed.

If any point in the fit's window is uncertified, no equilibrium is reported (``value``
None, the points and reasons in ``note``): a minimum fitted through energies 46–72 mHa
off (the README's water scan before round 3) is not a geometry. When every fitted point has
an FCI energy, the same model is fitted to those, and the fit reports
``energy_vs_reference_mha = E_min − E_min(FCI)`` with its shot-noise error; a fitted
``E_min`` more than 2σ below the FCI minimum is called out in ``note`` (VQE energies are
variational; such an ``E_min`` comes from the noise of the energies, not from the state).
"""

from __future__ import annotations

import math

from ..accuracy import CHEMICAL_ACCURACY_MHA
from .fit import fit_equilibrium

Z = 3.0


def uncertified(point: dict) -> str:
    """Why ``point`` (a scan record) is not certified, or ``""``."""
    energy, stderr = point["energy"], point["stderr"] or 0.0
    low = energy - Z * stderr
    e_fci = point.get("e_fci")
    if str(point.get("message", "")).startswith(("diverged", "failed")):
        return "the run diverged or failed"
    if low > point["e_hf"]:
        return (f"measured {(energy - point['e_hf']) * 1e3:+.1f} ± {stderr * 1e3:.1f} mHa "
                "vs Hartree–Fock (above it)")
    if e_fci is not None and low > e_fci + CHEMICAL_ACCURACY_MHA / 1e3:
        return (f"measured {(energy - e_fci) * 1e3:.1f} ± {stderr * 1e3:.1f} mHa above FCI "
                "(outside chemical accuracy)")
    return ""


def certified_equilibrium(values, points: list[dict], model: str, unit: str = "") -> dict:
    """:func:`~qvopt.scan.fit.fit_equilibrium` of the points' energies, refused when an
    uncertified point lies in its window, compared with FCI's (module docstring)."""
    fit = fit_equilibrium(values, [p["energy"] for p in points],
                          [p["stderr"] for p in points], model)
    if fit["value"] is None:
        return fit
    low, high = fit["window"]
    inside = [(v, p) for v, p in zip(values, points, strict=True) if low <= v <= high]
    reasons = [f"{v:g}{unit}: {why}" for v, p in inside if (why := uncertified(p))]
    if reasons:
        refused: dict = {key: None for key in fit}
        refused["note"] = (f"not fitted: {len(reasons)} of the {len(inside)} points in the fit "
                           f"window are not certified ({'; '.join(reasons)}); rerun them "
                           "(more iterations, a smaller --tol, or --ansatz adapt)")
        return refused
    return _versus_reference(fit, values, points, model)


def _versus_reference(fit: dict, values, points: list[dict], model: str) -> dict:
    fit = {**fit, "energy_vs_reference_mha": None, "energy_vs_reference_stderr_mha": None}
    e_fci = [p.get("e_fci") for p in points]
    if any(e is None for e in e_fci):
        return fit
    reference = fit_equilibrium(values, e_fci, [0.0] * len(points), model)
    if reference["energy"] is None:
        return fit
    gap = (fit["energy"] - reference["energy"]) * 1e3
    error = (fit.get("energy_stderr") or 0.0) * 1e3
    fit["energy_vs_reference_mha"], fit["energy_vs_reference_stderr_mha"] = gap, error
    if gap < -2 * error and not math.isclose(gap, 0.0, abs_tol=1e-9):
        fit["note"] = (f"the fitted E_min lies {-gap:.2f} ± {error:.2f} mHa BELOW the FCI "
                       "minimum fitted the same way: an effect of the energies' noise, not a "
                       "variational bound")
    return fit
