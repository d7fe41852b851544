"""Plots of one run: file written, non-empty, the four panels with their axes."""

from __future__ import annotations

import argparse
import json

import pytest
from rich.console import Console

import qvopt
from qvopt.cli.plot import add_plot_parser, cmd_plot
from qvopt.errors import InputError
from qvopt.io import write_json_atomic
from qvopt.plots import plot_run, run_figure

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    return qvopt.vqe("h2", shots=200, seed=1, maxiter=8)


def test_plot_run_writes_a_png(tmp_path, result):
    path = plot_run(result, tmp_path / "sub" / "run.png")
    assert path.read_bytes().startswith(PNG) and path.stat().st_size > 20_000


def test_figure_has_energy_and_error_panels_vs_iteration_and_shots(result):
    figure = run_figure(result)
    axes = figure.axes
    assert len(axes) == 4
    assert [ax.get_xlabel() for ax in axes] == ["iteration", "iteration",
                                               "cumulative shots", "cumulative shots"]
    assert [ax.get_xscale() for ax in axes] == ["linear", "linear", "log", "log"]
    assert axes[0].get_ylabel() == "energy (Ha)" and axes[1].get_yscale() == "log"
    assert all(ax.get_legend() is None for ax in axes)  # one figure legend, under the panels
    labels = {t.get_text() for legend in figure.legends for t in legend.get_texts()}
    assert {"FCI", "estimate ± stderr (each iteration)", "chemical accuracy (1.6 mHa)"} <= labels
    assert any(label.startswith("chemical accuracy reached for good") for label in labels)
    low, high = axes[0].get_ylim()  # the energy axis follows the noiseless curve, not noise
    exact = [h["energy_exact"] for h in result.history]
    assert low <= min(exact) and high >= max(exact) and high - low < 0.1


def test_exact_run_and_json_input(tmp_path):
    exact = qvopt.vqe("h2", shots=None, maxiter=3)
    path = write_json_atomic(tmp_path / "r.json", exact.to_dict())
    assert plot_run(path, tmp_path / "r.png").stat().st_size > 0


def _args(*argv):
    parser = argparse.ArgumentParser(prog="qvopt")
    add_plot_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["plot", *argv])


def test_cli_plot_default_output_next_to_the_json(tmp_path, result):
    source = write_json_atomic(tmp_path / "result.json", result.to_dict())
    console = Console(record=True, width=200)
    assert cmd_plot(_args(str(source)), console) == 0
    assert (tmp_path / "result.png").read_bytes().startswith(PNG)
    assert "result.png" in console.export_text()
    assert cmd_plot(_args(str(source), "-o", str(tmp_path / "o.png")), Console()) == 0
    assert (tmp_path / "o.png").is_file()


def test_cli_plot_bad_inputs_name_the_problem(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        cmd_plot(_args(str(tmp_path / "missing.json")), Console())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"fun": 1.0}))
    with pytest.raises(InputError, match="no 'history'"):
        cmd_plot(_args(str(bad)), Console())
    bad.write_text("{not json")
    with pytest.raises(InputError, match="cannot read result JSON"):
        cmd_plot(_args(str(bad)), Console())


def test_cli_plot_draws_a_scan_json(tmp_path):
    from qvopt.scan.core import scan

    result = scan("h2", "bond", [0.6, 0.74, 0.9], shots=None, maxiter=5)
    source = result.write_json(tmp_path / "scan.json")
    assert cmd_plot(_args(str(source)), Console()) == 0
    assert (tmp_path / "scan.png").stat().st_size > 20_000
