"""Tapering, ZNE and IBM modes reached from RunConfig, run files and the CLI."""

from __future__ import annotations

import json

import pytest

import qvopt
from qvopt.cli import main


def test_tapered_run_from_the_cli(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "h2", "--taper", "--ansatz", "hardware_efficient", "--layers", "1",
                 "--shots", "exact", "--maxiter", "40", "-O", "lr=0.2", "--out", str(out),
                 "--no-progress"]) == 0
    data = json.loads(out.read_text())
    assert data["n_qubits"] == 1 and data["config"]["taper"] is True
    assert abs(data["error_mha"]) < 1.6


def test_taper_with_excitation_ansatz_is_refused_before_running(capsys):
    assert main(["run", "h2", "--taper"]) == 2
    assert "--taper" in capsys.readouterr().err


def test_zne_and_mode_flags_become_backend_options():
    from qvopt.cli import build_parser

    args = build_parser().parse_args(
        ["run", "h2", "--backend", "fake_manila", "--mitigation", "readout,zne",
         "--zne-scales", "1,3", "--zne-extrapolation", "linear"])
    config = qvopt.RunConfig.from_cli_args(args)
    assert config.backend_options == {"mitigation": "readout,zne",
                                      "zne": {"scale_factors": [1, 3],
                                              "extrapolation": "linear"}}


def test_dry_run_prices_zne_circuits(capsys):
    assert main(["run", "h2", "--backend", "fake_manila", "--mitigation", "zne",
                 "--zne-scales", "1,3,5", "--optimizer", "spsa", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "two-qubit gates" in out
    from qvopt.preview import preview

    cost = preview(qvopt.RunConfig("h2", backend="fake_manila", optimizer="spsa",
                                   backend_options={"mitigation": "zne"}))
    assert len(cost["device_circuits"]) == 3 * cost["groups"]
    gates = {c["scale"]: c["two_qubit_gates"] for c in cost["device_circuits"]
             if c["group"] == 0}
    assert gates[3] == 3 * gates[1] and gates[5] == 5 * gates[1]


def test_run_file_takes_zne_table(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('molecule = "h2"\nshots = 100\n[backend]\nname = "aer"\n'
                    'mitigation = ["zne"]\nzne = {scale_factors = [1, 3]}\n')
    config = qvopt.RunConfig.from_toml(path)
    assert config.backend_options["zne"] == {"scale_factors": [1, 3]}
    path.write_text('molecule = "h2"\n[backend]\nname = "aer"\nmitigation = "pec"\n')
    with pytest.raises(qvopt.RunFileError, match="pec"):
        qvopt.RunConfig.from_toml(path)
