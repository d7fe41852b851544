"""Scans: coordinates, bad specifications, a small exact scan, resume, warm start, CLI."""

from __future__ import annotations

import argparse
import importlib
import json
import math

import numpy as np
import pytest
from rich.console import Console

from qvopt.cli.scan import add_scan_parser, cmd_scan
from qvopt.errors import InputError, RunFileError, StoreError
from qvopt.scan import load_scan_file
from qvopt.scan.coordinates import (
    angle_geometry,
    bond_geometry,
    make_coordinate,
    parse_values,
)
from qvopt.scan.core import scan
from qvopt.scan.fit import fit_equilibrium, morse
from qvopt.scan.store import ScanStore

core = importlib.import_module("qvopt.scan.core")
VALUES = [0.6, 0.7414, 0.9]


# ------------------------------------------------------------------ specifications
def test_ranges_include_the_stop_and_lists_are_read():
    values = parse_values("0.5:2.5:0.25")
    assert len(values) == 9 and values[0] == 0.5 and values[-1] == 2.5
    assert parse_values("2.5:0.5:-0.5") == (2.5, 2.0, 1.5, 1.0, 0.5)
    assert parse_values("0.6, 0.7") == (0.6, 0.7)


@pytest.mark.parametrize("kind, values, atoms, field, message", [
    ("bond", "0.5:2.5:0", None, "values", r"step must not be 0"),
    ("bond", "1.0:0.5:0.1", None, "values", r"empty range 1.0:0.5:0.1"),
    ("bond", "-0.5:1.0:0.5", None, "values", r"bond lengths must be positive, got -0.5"),
    ("bond", [], None, "values", r"empty"),
    ("bond", "0.5:x:0.1", None, "values", r"'x' .* is not a number"),
    ("bond", [0.7], (0, 5), "atoms", r"unknown atom index 5: the molecule has 2 atoms"),
    ("bond", [0.7], (0, 0), "atoms", r"must be different"),
    ("bond", [0.7], (0, 1, 2), "atoms", r"a bond needs 2 atom indices"),
    ("angle", [200.0], (1, 0, 2), "values", r"angles must be in \(0, 180\]"),
    ("dihedral", [1.0], None, "coordinate", r"expected one of"),
    ("geometries", [[[0, 0, 0]]], None, "geometries", r"geometry 0 must be 2 rows"),
])
def test_bad_specifications_name_the_input(kind, values, atoms, field, message):
    n_atoms = 3 if kind == "angle" else 2
    with pytest.raises(InputError, match=message) as info:
        make_coordinate(kind, values, atoms, n_atoms, "angstrom")
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")


def test_bad_specification_fails_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(core, "run_point", _forbidden)
    with pytest.raises(InputError, match="unknown atom index 2"):
        scan("h2", "bond", [0.7], atoms=(0, 2), store=tmp_path / "s.sqlite")
    with pytest.raises(InputError, match="shots"):
        scan("h2", "bond", [0.7], shots=-3)
    with pytest.raises(InputError, match="checkpoint"):
        scan("h2", "bond", [0.7], checkpoint="x.ckpt")
    assert not (tmp_path / "s.sqlite").exists()


def test_bond_and_angle_geometries():
    xyz = [[0.0, 0.0, 0.0], [0.3, 0.4, 0.0], [-1.0, 0.0, 0.0]]
    moved = np.array(bond_geometry(xyz, 0, 1, 2.0))
    assert np.linalg.norm(moved[1] - moved[0]) == pytest.approx(2.0)
    assert np.allclose(moved[1] / 2.0, [0.6, 0.8, 0.0]) and np.allclose(moved[2], xyz[2])
    bent = np.array(angle_geometry(xyz, 1, 0, 2, 104.5))
    a, b = bent[1] - bent[0], bent[2] - bent[0]
    angle = math.degrees(math.acos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    assert angle == pytest.approx(104.5)
    assert np.linalg.norm(b) == pytest.approx(1.0) and np.allclose(bent[:2], xyz[:2])


# ------------------------------------------------------------------ a small exact scan
def _forbidden(*args, **kwargs):
    raise AssertionError("a finished point was recomputed")


def _recording(monkeypatch) -> list:
    """Wrap ``run_point`` to record the configurations it runs."""
    calls, original = [], core.run_point

    def wrapped(config, threads=None):
        calls.append(config)
        return original(config, threads)

    monkeypatch.setattr(core, "run_point", wrapped)
    return calls


def test_exact_scan_of_h2_resumes_and_warm_starts(tmp_path, monkeypatch):
    store = tmp_path / "scan.sqlite"
    calls = _recording(monkeypatch)
    first = scan("h2", "bond", VALUES[:2], shots=None, seed=3, maxiter=40, store=store)
    assert len(calls) == 2
    result = scan("h2", "bond", VALUES, shots=None, seed=3, maxiter=40, store=store)
    assert len(calls) == 3 and result.reused == 2  # only the new point ran
    assert [p["value"] for p in result.points] == VALUES
    for point in result.points:
        assert point["error_mha"] == pytest.approx(
            (point["energy_exact"] - point["e_fci"]) * 1000)
        assert abs(point["error_mha"]) < 1.6 and point["stderr"] == 0.0
        assert point["e_fci"] < point["e_hf"]
    assert result.points[1]["e_fci"] == pytest.approx(-1.1372701747, abs=1e-8)
    assert result.points[:2] == first.points
    # warm start: the first point at the run default (MP2 for UCCSD), then each new point
    # from the final parameters of the one before it
    assert calls[0].initial_point == "mp2"
    assert calls[1].initial_point == tuple(first.points[0]["x"])
    assert calls[2].initial_point == tuple(result.points[1]["x"])
    fit = result.equilibrium
    assert fit["method"] == "parabola"  # three points: too few for a Morse fit
    assert fit["value"] == pytest.approx(0.735, abs=0.05)

    monkeypatch.setattr(core, "run_point", _forbidden)
    again = scan("h2", "bond", VALUES, shots=None, seed=3, maxiter=40, store=store)
    assert again.reused == 3 and again.points == result.points


def test_without_warm_start_every_point_starts_at_the_run_default(monkeypatch):
    calls = _recording(monkeypatch)
    result = scan("h2", "bond", VALUES[:2], shots=None, maxiter=2, warm_start=False)
    assert [c.initial_point for c in calls] == ["mp2", "mp2"]
    assert result.config["maxiter"] == 2 and not result.warm_start
    scan("h2", "bond", VALUES[:2], shots=None, maxiter=2, warm_start=False,
         initial_point="hf")
    assert [c.initial_point for c in calls[2:]] == ["hf", "hf"]


def test_scan_defaults_rely_on_warm_start_and_measure_the_final_energy():
    from qvopt.scan.core import scan_defaults

    assert scan_defaults({}, True) == {"maxiter": 40, "final_precision": 1.6e-3}
    assert scan_defaults({"shots": "exact"}, True) == {"maxiter": 40}
    assert scan_defaults({"shots": None}, False) == {"maxiter": 120}


def test_store_refuses_a_foreign_file(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("my notes")
    with pytest.raises(StoreError, match="not a qvopt scan store"):
        ScanStore(path)
    assert path.read_text() == "my notes"


# ------------------------------------------------------------------ equilibrium fit
def test_morse_fit_recovers_the_minimum_and_its_uncertainty():
    r = np.arange(0.5, 2.51, 0.1)
    energy = morse(r, 0.2, 2.0, 0.74, -1.14)
    exact = fit_equilibrium(r, energy, np.zeros_like(r))
    assert exact["value"] == pytest.approx(0.74, abs=1e-6) and exact["stderr"] == 0.0
    noisy = fit_equilibrium(r, energy + np.random.default_rng(0).normal(0, 1e-3, r.size),
                            np.full(r.size, 1e-3))
    assert noisy["value"] == pytest.approx(0.74, abs=4 * noisy["uncertainty"])
    assert 0 < noisy["stderr"] < 0.05


def test_minimum_at_the_end_is_not_fitted():
    r = np.array([1.0, 1.5, 2.0])
    fit = fit_equilibrium(r, morse(r, 0.2, 2.0, 0.74, -1.14), np.zeros(3))
    assert fit["value"] is None and "extend the range" in fit["note"]


# ------------------------------------------------------------------ command line
def _parser():
    parser = argparse.ArgumentParser(prog="qvopt")
    add_scan_parser(parser.add_subparsers(dest="command"))
    return parser


def test_cli_writes_table_json_csv_and_png(tmp_path):
    out = tmp_path / "scan.json"
    args = _parser().parse_args(["scan", "h2", "--bond", "0.6,0.7414,0.9", "--shots", "200",
                                 "--seed", "1", "--maxiter", "10", "--out", str(out),
                                 "--no-progress"])
    console = Console(record=True, width=120)
    assert cmd_scan(args, console) == 0
    text = console.export_text()
    assert "equilibrium bond 0-1" in text and "3 points, 0 from the store" in text
    data = json.loads(out.read_text())
    keys = {"geometry", "energy", "stderr", "energy_exact", "e_hf", "e_fci", "error_mha",
            "shots_used"}
    assert len(data["points"]) == 3 and keys <= set(data["points"][0])
    assert data["points"][0]["shots_used"] > 0
    assert {p["grouping"] for p in data["points"]} == {"fc_split"}  # auto, as it ran
    assert out.with_suffix(".csv").read_text().count("\n") == 4
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert (tmp_path / "scan.sqlite").is_file()


@pytest.mark.parametrize("argv, message", [
    (["h2", "--bond", "0.5:2.5:0"], r"^--bond 0.5:2.5:0: step must not be 0"),
    (["h2", "--bond=-1:2:0.5"], r"^--bond -1:2:0.5: bond lengths must be positive"),
    (["h2", "--bond", "0.7", "--atoms", "0,3"], r"^--atoms: unknown atom index 3"),
    (["h2", "--bond", "0.7", "--atoms", "a"], r"^--atoms: expected comma-separated"),
    (["h2"], r"give --bond"),
])
def test_cli_errors_name_the_flag(tmp_path, argv, message):
    args = _parser().parse_args(["scan", *argv, "--out", str(tmp_path / "s.json")])
    with pytest.raises(InputError, match=message):
        cmd_scan(args, Console())


def test_cli_passes_only_given_run_flags_and_exact_shots():
    from qvopt.cli.scan import _request

    request = _request(_parser().parse_args(["scan", "h2", "--bond", "0.7", "--shots",
                                             "exact", "-O", "lr=0.1"]))
    assert request["settings"] == {"shots": None, "optimizer_options": {"lr": 0.1}}
    assert _request(_parser().parse_args(["scan", "h2", "--bond", "0.7"]))["settings"] == {}
    grouped = _request(_parser().parse_args(["scan", "h2", "--bond", "0.7", "--grouping",
                                             "fc"]))
    assert grouped["settings"] == {"grouping": "fc"}


SCAN_FILE = """
molecule = "h2"
shots = "exact"
maxiter = 5
[optimizer]
name = "adam"
[scan]
bond = [0.7, 0.8]
out = "out/scan.json"
"""


def test_scan_file(tmp_path):
    path = tmp_path / "scan.toml"
    path.write_text(SCAN_FILE)
    request = load_scan_file(path)
    assert request["values"] == [0.7, 0.8] and request["settings"]["maxiter"] == 5
    assert request["out"] == str(tmp_path / "out" / "scan.json")
    args = _parser().parse_args(["scan", "--config", str(path), "--no-plot", "--no-progress"])
    assert cmd_scan(args, Console(width=120)) == 0
    assert len(json.loads((tmp_path / "out" / "scan.json").read_text())["points"]) == 2
    path.write_text(SCAN_FILE.replace("bond = [0.7, 0.8]", "bond = [0.7]\nangle = [90.0]"))
    with pytest.raises(RunFileError, match=r"exactly one of"):
        load_scan_file(path)
    flags = _parser().parse_args(["scan", "--config", str(path), "--shots", "10"])
    with pytest.raises(InputError, match=r"remove \['--shots'\]"):
        cmd_scan(flags, Console())


def test_scan_file_and_flags_share_the_run_defaults(tmp_path):
    """A scan file without [optimizer] and a scan from flags both get RunConfig's defaults
    (before, the file reader hard-coded adam); --allocation none gives per-group shots."""
    from qvopt.cli.scan import _request
    from qvopt.config import RunConfig

    path = tmp_path / "scan.toml"
    path.write_text('molecule = "h2"\n[scan]\nbond = [0.7]\n')
    from_file = RunConfig(molecule="h2", **load_scan_file(path)["settings"])
    flags = _request(_parser().parse_args(["scan", "h2", "--bond", "0.7"]))["settings"]
    assert from_file == RunConfig(molecule="h2", **flags) == RunConfig("h2")
    assert from_file.optimizer == "icans"
    per_group = _request(_parser().parse_args(["scan", "h2", "--bond", "0.7",
                                               "--allocation", "none"]))["settings"]
    assert RunConfig(molecule="h2", **per_group).allocation is None


def test_point_keys_name_the_grouping_the_points_run(tmp_path, monkeypatch):
    """Above 14 qubits an ``auto`` grouping runs QWC groups: its points' keys must differ
    from an explicit fc_split scan's (which runs fc_split), and equal an explicit QWC's."""
    from types import SimpleNamespace

    import qvopt.chem.problem as problem_module
    from qvopt.config import RunConfig
    from qvopt.scan.core import _sized, point_key

    path = tmp_path / "p.toml"
    path.write_text("stands for a 16-qubit point")
    monkeypatch.setattr(problem_module, "load_problem", lambda p: SimpleNamespace(n_qubits=16))
    keys = {g: point_key(_sized(RunConfig("h2", grouping=g), path), path, 1, True)
            for g in ("auto", "fc_split", "sorted_insertion")}
    assert keys["auto"] == keys["sorted_insertion"] != keys["fc_split"]
    monkeypatch.setattr(problem_module, "load_problem", lambda p: SimpleNamespace(n_qubits=4))
    assert _sized(RunConfig("h2"), path).grouping == "fc_split"
