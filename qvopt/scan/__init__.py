"""Potential-energy scans: VQE along a bond length, an angle, or a list of geometries.

    result = qvopt.scan("h2", "bond", "0.5:2.5:0.25", shots=1000, seed=1,
                        store="scan.sqlite")
    result.write("scan.json")           # scan.json, scan.csv, scan.png
    result.equilibrium["value"], result.equilibrium["uncertainty"]

``qvopt scan h2 --bond 0.5:2.5:0.25 --out scan.json`` on the command line (see
:mod:`qvopt.cli.scan`). Parts: :mod:`.coordinates` (values, geometries, per-point molecule
files), :mod:`.store` (resumable SQLite store), :mod:`.fit` (equilibrium), :mod:`.core`
(the scan), :mod:`.plot` (PNG), :mod:`.scanfile` (TOML form).
"""

from .core import ScanResult, scan
from .scanfile import load_scan_file

__all__ = ["ScanResult", "load_scan_file", "scan"]
