"""Statistics, tables and plots of a study store.

Per (molecule, optimizer, shots), over the finished seeds:

* ``median_error_mha`` and the interquartile range (``q25``, ``q75``) of the final error
  |E_exact(θ_final) − E_FCI|, with a bootstrap 95% interval of the median;
* ``success_rate``: share of seeds whose final error is within chemical accuracy
  (1.6 mHa), with a bootstrap 95% interval;
* ``median_shots_to_ca`` / ``median_time_to_ca``: cumulative shots and wall time at the
  recorded point after which the exact energy stays within chemical accuracy for the rest
  of the run (:mod:`qvopt.accuracy`), median over all finished seeds with a seed that
  never settles there counted as ∞ (so the median is ∞ when half or more never do;
  ``reached`` counts the ones that did), with bootstrap intervals;
* ``failed`` / ``errors``: how many runs of the grid point failed, and their messages.

Bootstrap: 2000 resamples of the seeds with a fixed generator (reproducible), percentile
intervals. Plots (PNG, next to the store): error vs cumulative shots per molecule (median
line, IQR band, chemical accuracy, log axes, one line per optimizer and shot setting),
success rate vs shot budget, final-error distributions, and shots to chemical accuracy
of every seed (one row per optimizer and shot setting, the median marked, seeds that never
got there drawn at the right edge).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..accuracy import CHEMICAL_ACCURACY_MHA, HARTREE_TO_MHA, settle_index
from ..errors import StoreError
from ..io import safe_component, save_figure_atomic, write_bytes_atomic
from .store import Store

BOOTSTRAP_RESAMPLES = 2000


def bootstrap_interval(values, statistic, rng: np.random.Generator,
                       resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Percentile 95% interval of ``statistic`` over bootstrap resamples of ``values``."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return (np.nan, np.nan)
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    stats = np.array([statistic(values[p]) for p in picks])
    # "nearest": no interpolation, so a statistic that is ∞ in some resamples stays ∞
    return (float(np.percentile(stats, 2.5, method="nearest")),
            float(np.percentile(stats, 97.5, method="nearest")))


def first_reach(trace, e_fci: float) -> tuple[float, float]:
    """(cumulative shots, time) where the run entered chemical accuracy for good (see
    :mod:`qvopt.accuracy`), else NaN."""
    errors = (trace["energy_exact"].to_numpy() - e_fci) * HARTREE_TO_MHA
    index = settle_index(errors)
    if index is None:
        return np.nan, np.nan
    row = trace.iloc[index]
    return float(row["shots"]), float(row["time"])


def _failure_columns(group) -> dict:
    """``failed`` (how many runs of the group failed) and their distinct error messages."""
    failed = group[group["status"] != "finished"]
    messages = sorted({str(m) for m in failed["message"] if m is not None})
    return {"failed": len(failed), "errors": " | ".join(messages)}


def _median_with_inf(values: np.ndarray) -> float:
    """The median with ∞ allowed (a middle pair of a finite value and ∞ gives ∞; no
    interpolation between infinities)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    if n % 2:
        return float(ordered[n // 2])
    low, high = ordered[n // 2 - 1], ordered[n // 2]
    return float(high) if np.isinf(high) else float((low + high) / 2)


def _finished_stats(group, by_run: dict, rng: np.random.Generator) -> dict:
    """The statistics of one grid point's finished runs (NaN where there are none)."""
    errors = group["error_mha"].abs().to_numpy(dtype=float)
    successes = (errors <= CHEMICAL_ACCURACY_MHA).astype(float)
    reach = [first_reach(by_run[rid], e) for rid, e in zip(group["run_id"], group["e_fci"],
                                                           strict=True) if rid in by_run]
    # a seed that never settled within chemical accuracy counts as ∞ (it did not get there
    # with any number of shots), so a method that fails half its seeds has median ∞
    shots_ca = np.array([r[0] if np.isfinite(r[0]) else np.inf for r in reach])
    time_ca = np.array([r[1] if np.isfinite(r[1]) else np.inf for r in reach])
    lo, hi = bootstrap_interval(errors, np.median, rng)
    s_lo, s_hi = bootstrap_interval(successes, np.mean, rng)
    sh_lo, sh_hi = bootstrap_interval(shots_ca, _median_with_inf, rng)
    t_lo, t_hi = bootstrap_interval(time_ca, _median_with_inf, rng)
    some = len(errors) > 0
    return {
        "runs": len(group),
        "median_error_mha": float(np.median(errors)) if some else np.nan,
        "median_error_ci_low": lo, "median_error_ci_high": hi,
        "q25_error_mha": float(np.percentile(errors, 25)) if some else np.nan,
        "q75_error_mha": float(np.percentile(errors, 75)) if some else np.nan,
        "success_rate": float(successes.mean()) if some else np.nan,
        "success_ci_low": s_lo, "success_ci_high": s_hi,
        "reached": int(np.isfinite(shots_ca).sum()),
        "median_shots_to_ca": _median_with_inf(shots_ca) if len(shots_ca) else np.nan,
        "shots_to_ca_ci_low": sh_lo, "shots_to_ca_ci_high": sh_hi,
        "median_time_to_ca": _median_with_inf(time_ca) if len(time_ca) else np.nan,
        "time_to_ca_ci_low": t_lo, "time_to_ca_ci_high": t_hi,
        "median_shots_used": float(group["shots_used"].median()) if some else np.nan,
    }


def with_method_labels(runs):
    """``optimizer`` relabelled ``"<ansatz>+<optimizer>"`` for runs not on UCCSD (so a study
    can put ADAPT+adam or HEA+spsa beside UCCSD+adam), and ``"<optimizer>@hf"`` for UCCSD
    runs that started at zeros (stores written before studies started at MP2: their rows
    stay apart from MP2-start runs), suffixed ``":fc_split"`` (any grouping other than QWC
    sorted insertion) so that runs measured in different groups never share a row, and
    ``":unknown-grouping"`` for runs with an allocation stored before the grouping was
    recorded (fc_split or QWC), from each run's stored config."""
    import json

    def label(row) -> str:
        config = json.loads(row["config"])
        ansatz = config.get("ansatz", "uccsd")
        grouping = config.get("grouping_used", config.get("grouping"))
        if grouping is None:  # stored before groupings were recorded: QWC unless allocated
            sampled = config.get("shots") is not None and config.get("allocation")
            grouping = "unknown-grouping" if sampled else "sorted_insertion"
        suffix = "" if grouping == "sorted_insertion" else f":{grouping}"
        if ansatz != "uccsd":
            return f"{ansatz}+{row['optimizer']}{suffix}"
        return (row["optimizer"] if config.get("initial_point") == "mp2"
                else f"{row['optimizer']}@hf") + suffix

    def unit(row) -> str:
        allocation = json.loads(row["config"]).get("allocation")
        return f"per evaluation ({allocation})" if allocation else "per group"

    runs = runs.copy()
    if len(runs):
        runs["optimizer"] = runs.apply(label, axis=1)
        runs["shots_unit"] = runs.apply(unit, axis=1)
    return runs


def _setting_label(optimizer: str, shots, group) -> str:
    """``"adam, 1000 shots per evaluation (variance)"``: what a study's shot setting means
    (per energy evaluation split by an allocation, or per measurement group)."""
    if _is_exact(shots):
        return f"{optimizer}, exact"
    units = sorted(set(group["shots_unit"])) if "shots_unit" in group else []
    return f"{optimizer}, {_shots_label(shots)} shots" + (f" {units[0]}" if len(units) == 1
                                                            else "")


def summarize(runs, traces, seed: int = 0):
    """The per-(molecule, optimizer, shots) table described in the module docstring.

    ``runs`` counts the finished runs the statistics are taken over; ``failed`` counts
    the failed runs of the same grid point and ``errors`` lists their distinct messages
    (a grid point whose runs all failed has a row with ``runs == 0`` and NaN statistics).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    by_run = {rid: t for rid, t in traces.groupby("run_id")}
    rows = []
    keys = ["molecule", "optimizer", "shots"]
    for key, group in runs.groupby(keys, dropna=False, sort=True):
        finished = group[group["status"] == "finished"]
        rows.append({"molecule": key[0], "optimizer": key[1], "shots": key[2],
                     **_finished_stats(finished, by_run, rng), **_failure_columns(group)})
    return pd.DataFrame(rows)


TABLE_COLUMNS = ("molecule", "optimizer", "shots", "runs", "failed",
                 "median |err| mHa [95% CI]", "IQR (mHa)", "success [95% CI]",
                 "median shots to CA", "median time to CA (s)")


def _is_exact(shots) -> bool:
    """Exact energies are stored as NULL shots (None or NaN once in a DataFrame)."""
    return shots is None or bool(np.isnan(shots))


def _shots_label(shots) -> str:
    """``"exact"`` for exact energies, else the integer shot setting."""
    return "exact" if _is_exact(shots) else f"{int(shots)}"


def table_rows(table) -> list[tuple[str, ...]]:
    """The summary ``table`` as text cells under :data:`TABLE_COLUMNS` (``–`` where a grid
    point has no finished run or never reached chemical accuracy)."""
    rows: list[tuple[str, ...]] = []
    for row in table.itertuples():
        head = (str(row.molecule), str(row.optimizer), _shots_label(row.shots),
                str(row.runs), str(row.failed))
        if row.runs == 0:
            rows.append(head + ("–",) * 5)
            continue
        rows.append(head + (
            (f"{row.median_error_mha:.3f} [{row.median_error_ci_low:.3f}, "
             f"{row.median_error_ci_high:.3f}]"),
            f"{row.q25_error_mha:.3f}–{row.q75_error_mha:.3f}",
            f"{row.success_rate:.0%} [{row.success_ci_low:.0%}, {row.success_ci_high:.0%}]",
            (f"{row.median_shots_to_ca:.3g}" if np.isfinite(row.median_shots_to_ca)
             else "∞") + f" ({row.reached}/{row.runs})"
            if row.reached else f"– (0/{row.runs})",
            (f"{row.median_time_to_ca:.2f}" if np.isfinite(row.median_time_to_ca) else "∞")
            if row.reached else "–"))
    return rows


def failure_lines(table) -> list[str]:
    """One line per grid point with failed runs: its key, the count and the messages."""
    lines = []
    for row in table[table["failed"] > 0].itertuples():
        lines.append(f"{row.molecule} / {row.optimizer} / {_shots_label(row.shots)} shots: "
                     f"{row.failed} failed: {row.errors}")
    return lines


def _error_on_grid(trace, e_fci: float, grid: np.ndarray, extend: bool) -> np.ndarray:
    """Error (mHa) of the last recorded point with cumulative shots ≤ each grid value;
    beyond the run's last point: its final error if ``extend``, else NaN."""
    shots = trace["shots"].to_numpy()
    error = np.abs(trace["energy_exact"].to_numpy() - e_fci) * 1000.0
    idx = np.searchsorted(shots, grid, side="right") - 1
    out = np.where(idx >= 0, error[np.clip(idx, 0, None)], np.nan)
    if not extend:
        out[grid > shots[-1]] = np.nan
    return out


def reached_within(reached_at: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Share of seeds that had reached chemical accuracy for good (``reached_at``: their
    shots to it, NaN for never) within each budget: non-decreasing in the budget (a seed
    inside the band at some budget but leaving it later does not count before it settles)."""
    settled = np.nan_to_num(np.asarray(reached_at, dtype=float), nan=np.inf)
    return (settled[:, None] <= np.asarray(budgets)[None, :]).mean(axis=0)


def plot_study(runs, traces, folder: Path, stem: str) -> list[Path]:
    """Write the PNG plots; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    finished = runs[runs["status"] == "finished"]
    by_run = {rid: t for rid, t in traces.groupby("run_id")}
    for molecule, mol_runs in finished.groupby("molecule"):
        runs_with_trace = [r for r in mol_runs.itertuples() if r.run_id in by_run]
        if not runs_with_trace:
            continue
        top = max(by_run[r.run_id]["shots"].max() for r in runs_with_trace)
        low = min(by_run[r.run_id]["shots"].iloc[0] for r in runs_with_trace)
        grid = np.geomspace(max(low, 1), max(top, 10), 200)

        fig, ax = plt.subplots(figsize=(9.5, 4.5))
        success_fig, success_ax = plt.subplots(figsize=(9.5, 4.5))
        # one colour per optimizer, one line style per shot setting
        colours = {o: plt.get_cmap("tab10")(i % 10)
                   for i, o in enumerate(sorted(mol_runs["optimizer"].unique()))}
        settings = sorted(mol_runs["shots"].unique(),
                          key=lambda v: (_is_exact(v), 0 if _is_exact(v) else v))
        styles = {v: ["-", "--", ":", "-."][i % 4] for i, v in enumerate(settings)}
        for (optimizer, shots), group in mol_runs.groupby(["optimizer", "shots"], dropna=False):
            pairs = [(r, e) for r, e in zip(group["run_id"], group["e_fci"], strict=True)
                     if r in by_run]
            if not pairs:
                continue
            curves = np.array([_error_on_grid(by_run[r], e, grid, False) for r, e in pairs])
            reached_at = np.array([first_reach(by_run[r], e)[0] for r, e in pairs])
            label = _setting_label(optimizer, shots, group)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns → NaN
                median = np.nanmedian(curves, axis=0)
                q25, q75 = np.nanpercentile(curves, [25, 75], axis=0)
            style: dict[str, Any] = {"color": colours[optimizer],
                     "linestyle": "-" if _is_exact(shots) else styles.get(shots, "-")}
            ax.plot(grid, median, label=label, **style)
            ax.fill_between(grid, q25, q75, color=colours[optimizer], alpha=0.15)
            success_ax.plot(grid, reached_within(reached_at, grid), label=label, **style)
        ax.axhline(CHEMICAL_ACCURACY_MHA, color="k", linestyle="--", label="chemical accuracy")
        ax.set(xscale="log", yscale="log", xlabel="cumulative shots",
               ylabel="|E(θ) − E_FCI| (mHa)", title=f"{molecule}: error vs shots (median, IQR)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        name = safe_component(Path(str(molecule)).stem)  # a molecule may be a path
        path = folder / f"{stem}_{name}_error_vs_shots.png"
        save_figure_atomic(fig, path)
        paths.append(path)
        success_ax.set(xscale="log", ylim=(-0.02, 1.02), xlabel="shot budget",
                       ylabel="share of seeds at chemical accuracy\nfor good within it",
                       title=f"{molecule}: success rate vs shot budget")
        success_ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        success_fig.tight_layout()
        path = folder / f"{stem}_{name}_success_vs_budget.png"
        save_figure_atomic(success_fig, path)
        paths.append(path)
        plt.close(fig)
        plt.close(success_fig)

        fig, ax = plt.subplots(figsize=(7, 4.5))
        labels, data = [], []
        for (optimizer, shots), group in mol_runs.groupby(["optimizer", "shots"], dropna=False):
            labels.append(f"{optimizer}\n{_shots_label(shots)}")
            data.append(np.maximum(group["error_mha"].abs().to_numpy(), 1e-6))
        ax.boxplot(data, tick_labels=labels)
        ax.axhline(CHEMICAL_ACCURACY_MHA, color="k", linestyle="--")
        ax.set(yscale="log", ylabel="final |error| (mHa)",
               title=f"{molecule}: final-error distributions")
        ax.tick_params(axis="x", labelsize=7)
        fig.tight_layout()
        path = folder / f"{stem}_{name}_final_errors.png"
        save_figure_atomic(fig, path)
        paths.append(path)
        plt.close(fig)
        paths.append(_plot_shots_to_ca(plt, seed_shots_to_ca(mol_runs, by_run), folder,
                                       f"{stem}_{name}", molecule))
    return paths


def seed_shots_to_ca(mol_runs, by_run: dict) -> list[tuple[str, np.ndarray]]:
    """``[(label, S_CA of every seed)]`` per (optimizer, shots) of one molecule's finished
    runs, seeds in ``seed_index`` order; NaN for a seed that never settled within chemical
    accuracy (:func:`first_reach`)."""
    out = []
    for (optimizer, shots), group in mol_runs.groupby(["optimizer", "shots"], dropna=False):
        group = group.sort_values("seed_index") if "seed_index" in group else group
        values = [first_reach(by_run[r], e)[0] if r in by_run else np.nan
                  for r, e in zip(group["run_id"], group["e_fci"], strict=True)]
        out.append((_setting_label(optimizer, shots, group), np.array(values, dtype=float)))
    return out


def _plot_shots_to_ca(plt, rows, folder: Path, stem: str, molecule: str) -> Path:
    """Strip plot of :func:`seed_shots_to_ca`: a dot per seed (seeds spread vertically in
    seed order, so equal values do not hide each other), an ``x`` at the right edge per
    seed that never got there, and a bar at the median with those counted as ∞ (as in the
    table; at the right edge when it is ∞)."""
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.55 * len(rows)))
    reached = np.concatenate([v[np.isfinite(v)] for _, v in rows] + [np.array([1.0])])
    never_at = 2.0 * reached.max()
    for y, (_, values) in enumerate(rows):
        offsets = y + np.linspace(-0.25, 0.25, len(values)) if len(values) > 1 else [y]
        shown = np.where(np.isfinite(values), values, never_at)
        hit = np.isfinite(values)
        ax.scatter(shown[hit], np.asarray(offsets)[hit], color="C0", s=18, zorder=3)
        ax.scatter(shown[~hit], np.asarray(offsets)[~hit], color="C3", marker="x")
        if len(values):
            median = _median_with_inf(np.nan_to_num(values, nan=np.inf))
            ax.plot([median if np.isfinite(median) else never_at] * 2, [y - 0.35, y + 0.35],
                    color="k")
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=7)
    ax.set(xscale="log", xlabel="shots to chemical accuracy (x: never)",
           title=f"{molecule}: shots to chemical accuracy per seed (bar: median, x = ∞)")
    fig.tight_layout()
    path = folder / f"{stem}_shots_to_ca.png"
    save_figure_atomic(fig, path)
    plt.close(fig)
    return path


def report(store: str | Path, plots: bool = True, csv: str | Path | None = None,
           seed: int = 0):
    """Summary DataFrame of ``store`` and the plot paths (PNG next to the store).

    The store is opened read-only; a missing, empty or foreign file, or a store without
    runs, raises :class:`~qvopt.errors.StoreError`. Failed runs are counted per row
    (``failed``, ``errors``); plots cover finished runs only.
    """
    store = Path(store)
    with Store(store, create=False) as db:  # read-only: a foreign file is never modified
        runs, traces = db.runs_frame(), db.trace_frame()
    if runs.empty:
        raise StoreError(f"store {str(store)!r} holds no runs yet")
    runs = with_method_labels(runs)
    table = summarize(runs, traces, seed=seed)
    if csv is not None:
        write_bytes_atomic(csv, table.to_csv(index=False).encode())
    paths = plot_study(runs, traces, store.parent, store.stem) if plots else []
    return table, paths
