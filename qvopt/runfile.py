"""Run files: one TOML file describing a VQE run, validated before anything is submitted.

    molecule = "h2"                  # shipped name or path to a molecule file
    ansatz = "uccsd"                 # or {name = "hardware_efficient", layers = 2}
    shots = 1000
    allocation = "variance"          # optional: shots is then the total per evaluation
    seed = 7
    maxiter = 50
    shot_budget = 100_000_000        # optional
    gtol = 1e-4                      # optional
    device = "CPU"                   # Aer device of the statevector backend

    [optimizer]
    name = "spsa"
    blocking = true                  # any option of that optimizer

    [backend]
    name = "fake_manila"             # statevector | aer | fake_<device> | ibm:<name> | pennylane:<device>
    mitigation = "readout"
    max_retries = 3
    noise = {depolarizing = 0.001, depolarizing_2q = 0.01, readout = 0.02}   # name = "aer"

    [output]
    result = "result.json"
    checkpoint = "run.ckpt"

Unknown keys anywhere are rejected with the key named; the molecule, optimizer options and
backend (including IBM credentials being present) are checked before the run starts.
"""

from __future__ import annotations

from .errors import RunFileError

from pathlib import Path

from .chem.molecule import read_molecule_file
from .io import read_toml, reject_unknown_keys
from .estimation.backends import BACKEND_OPTIONS, BackendError, fake_backend, \
    ibm_credentials_present
from .optimizers.registry import get_optimizer

TOP_KEYS = {"molecule", "ansatz", "shots", "allocation", "seed", "maxiter", "shot_budget", "gtol",
            "device", "optimizer", "backend", "output"}
OUTPUT_KEYS = {"result", "checkpoint"}




def _reject_unknown(table: dict, allowed: set[str], path: Path, prefix: str = "") -> None:
    reject_unknown_keys(table, allowed, path, prefix, error=RunFileError)


def validate_backend(name: str) -> None:
    """Check a backend name (and, for IBM, that credentials exist) without submitting."""
    if name in ("statevector", "aer") or name.startswith("pennylane:"):
        return
    if name.startswith("fake_"):
        fake_backend(name)
        return
    if name.startswith("ibm:"):
        if not ibm_credentials_present():
            raise BackendError("no IBM Quantum credentials: set QISKIT_IBM_TOKEN (and "
                               "QISKIT_IBM_INSTANCE) or save an account with "
                               "QiskitRuntimeService.save_account(...)")
        return
    raise ValueError(f"unknown backend {name!r}: expected 'statevector', 'aer', "
                     "'fake_<device>', 'ibm:<name>' or 'pennylane:<device>'")


def load_run_file(path: str | Path) -> dict:
    """Validated keyword arguments for :func:`qvopt.vqe` plus ``output`` paths."""
    path = Path(path)
    data = read_toml(path, "run file", error=RunFileError)
    _reject_unknown(data, TOP_KEYS, path)
    if "molecule" not in data:
        raise RunFileError(f"{path}: missing key 'molecule'")
    molecule = data["molecule"]
    if not Path(molecule).is_absolute() and Path(molecule).suffix == ".toml":
        molecule = str((path.parent / molecule).resolve())
    read_molecule_file(molecule)

    kwargs: dict = {"problem": molecule}
    for key in ("shots", "allocation", "seed", "maxiter", "shot_budget", "gtol", "device"):
        if key in data:
            kwargs[key] = data[key]
    ansatz = data.get("ansatz", "uccsd")
    if isinstance(ansatz, dict):
        ansatz = dict(ansatz)
        if "name" not in ansatz:
            raise RunFileError(f"{path}: key 'ansatz.name' is missing")
        kwargs["ansatz"] = ansatz.pop("name")
        kwargs["ansatz_options"] = ansatz or None
    else:
        kwargs["ansatz"] = ansatz

    optimizer = dict(data.get("optimizer", {"name": "adam"}))
    if "name" not in optimizer:
        raise RunFileError(f"{path}: key 'optimizer.name' is missing")
    kwargs["optimizer"] = optimizer.pop("name")
    try:
        get_optimizer(kwargs["optimizer"], vqe_defaults=True, **optimizer)
    except ValueError as exc:
        raise RunFileError(f"{path}: [optimizer] {exc}") from exc
    kwargs["optimizer_options"] = optimizer or None

    backend = dict(data.get("backend", {"name": "statevector"}))
    name = backend.pop("name", "statevector")
    _reject_unknown(backend, BACKEND_OPTIONS, path, "backend.")
    validate_backend(name)
    kwargs["backend"] = name
    kwargs["backend_options"] = backend or None

    output = dict(data.get("output", {}))
    _reject_unknown(output, OUTPUT_KEYS, path, "output.")
    outputs = {k: (path.parent / v if not Path(v).is_absolute() else Path(v))
               for k, v in output.items()}
    if "checkpoint" in outputs:
        kwargs["checkpoint"] = outputs["checkpoint"]
    return {"vqe": kwargs, "result": outputs.get("result")}
