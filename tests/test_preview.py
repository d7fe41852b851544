"""Dry runs price exactly what a run then charges, and run nothing."""

from __future__ import annotations

import pytest

import qvopt
from qvopt.cli import main
from qvopt.preview import preview


@pytest.mark.parametrize("optimizer, allocation", [("adam", None), ("spsa", None),
                                                   ("rmsprop", "variance")])
def test_preview_matches_the_ledger_of_a_one_iteration_run(optimizer, allocation):
    config = qvopt.RunConfig("h2", optimizer=optimizer, shots=2000, allocation=allocation,
                             seed=3, maxiter=1, final_precision=None)
    cost = preview(config)
    result = qvopt.run(config)
    assert result.shots_used == cost["shots_per_iteration"] + cost["shots_per_evaluation"]
    assert cost["shots_per_run"] == result.shots_used
    # fully commuting groups (2) with an allocation, QWC (5) with shots per group
    groups = 2 if allocation else 5
    assert cost["qubits"] == 4 and cost["parameters"] == 3 and cost["groups"] == groups
    assert cost["grouping"] == ("fc_split" if allocation else "sorted_insertion") \
        == result.config["grouping"]


def test_the_preview_is_public_api():
    """``qvopt.preview(config)`` is the function the dry run prints (issue 22: "--dry-run and
    qvopt.preview"), not the module of that name."""
    assert qvopt.preview is preview and "preview" in qvopt.__all__
    cost = qvopt.preview(qvopt.RunConfig("h2", seed=3, maxiter=1))
    assert cost["qubits"] == 4 and cost["shots_per_run"] > cost["shots_per_iteration"] > 0


def test_preview_of_the_defaults_matches_the_ledger_and_states_them():
    config = qvopt.RunConfig("h2", seed=3, maxiter=1)
    cost = preview(config)
    assert (cost["optimizer"], cost["shots"], cost["allocation"], cost["initial_point"]) == (
        "icans", 1000, "variance", "mp2")
    assert cost["shots_per_evaluation"] == 1000
    result = qvopt.run(config)
    # the iteration exactly; the final energy to 1.6 mHa is an estimate at the start
    assert result.shots_used - result.final_shots == cost["shots_per_iteration"]
    assert 0.5 < result.final_shots / cost["final_shots"] < 2
    plain = config.replace(final_precision=None)
    cost = preview(plain)
    assert cost["final_shots"] == 1000
    assert qvopt.run(plain).shots_used == cost["shots_per_iteration"] + cost["final_shots"]
    exact = preview(config.replace(shots=None, ansatz="hardware_efficient"))
    assert exact["allocation"] is None and exact["initial_point"] == "zeros"


def test_preview_of_a_device_run_prices_calibration_and_runs_nothing(monkeypatch, capsys):
    from qvopt.estimation import backends

    def refuse(*args, **kwargs):
        raise AssertionError("a dry run submitted a job")

    monkeypatch.setattr(backends.CircuitSampler, "_submit", refuse)
    config = qvopt.RunConfig("h2", optimizer="spsa", shots=1000, backend="fake_manila",
                             backend_options={"mitigation": "readout"}, maxiter=10)
    cost = preview(config)
    assert cost["calibration_shots"] == 20_000
    assert len(cost["device_circuits"]) == cost["groups"]
    assert all(c["two_qubit_gates"] > 0 for c in cost["device_circuits"])
    assert main(["run", "h2", "--backend", "fake_manila", "--mitigation", "readout",
                 "--optimizer", "spsa", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "nothing was run" in out and "two-qubit gates" in out


@pytest.mark.parametrize("molecule", ["h2", "lih_fc"])
def test_the_preview_bound_holds_for_default_runs(molecule):
    # round 2's preview priced every iteration like the first: 7–12× below what the
    # default (iCANS) runs spent; the bound prices them at the shot cap
    config = qvopt.RunConfig(molecule, seed=2)
    cost = preview(config)
    result = qvopt.run(config)
    assert cost["shots_per_iteration_at_most"] > cost["shots_per_iteration"]
    assert result.shots_used <= cost["shots_per_run_at_most"]


def test_the_expected_shots_are_deterministic_and_none_where_no_pilot_runs():
    config = qvopt.RunConfig("h2", seed=1)
    first, second = preview(config), preview(config.replace(seed=7))
    assert first["shots_per_run_expected"] == second["shots_per_run_expected"] > 0
    low, high = first["shots_per_run_range"]
    assert low < first["shots_per_run_expected"] < high
    assert first["iterations_expected"] <= config.maxiter
    exact = preview(config.replace(shots=None))
    assert exact["shots_per_run_expected"] is None and exact["shots_per_run_range"] is None
    capped = preview(config.replace(shot_budget=20_000))
    assert capped["shots_per_run_expected"] <= 20_000


@pytest.mark.parametrize("molecule, seeds", [("h2", 5), ("lih_fc", 5), ("lih", 5)])
def test_default_runs_spend_within_2x_of_the_expected_shots(molecule, seeds):
    # issue 20: the preview must predict what the default (shot-adaptive, self-stopping)
    # run spends within 2x; round 2 priced every iteration like the first (7-12x low)
    config = qvopt.RunConfig(molecule)
    expected = preview(config)["shots_per_run_expected"]
    spent = sorted(qvopt.run(config.replace(seed=seed)).shots_used for seed in range(seeds))
    assert 0.5 <= spent[seeds // 2] / expected <= 2.0


def test_a_zne_dry_run_shows_depth_per_scale_factor(capsys):
    assert main(["run", "h2", "--backend", "fake_manila", "--mitigation", "zne",
                 "--optimizer", "spsa", "--dry-run"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for scale in (1, 3, 5):
        assert f"noise scale {scale}" in out
