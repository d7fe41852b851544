"""The public entry points of a run: ``qvopt.vqe(...)`` and ``qvopt.run(config)``.

They sit above both kinds of run, so the dispatch to ADAPT-VQE (a circuit that grows,
:mod:`qvopt.adapt`) or to a fixed circuit (:mod:`qvopt.vqe`) imports downward only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qiskit import QuantumCircuit
from scipy.optimize import OptimizeResult

from .chem.operators import problem_from_operator
from .chem.problem import Problem
from .config import AUTO, RunConfig
from .errors import InputError
from .optimizers.scipy_methods import ScipyMethod
from .result import VQEResult
from .vqe import run_vqe

# vqe()'s keyword settings: every RunConfig field but the three positional parts and the
# result path (which the CLI writes)
RUN_SETTINGS = tuple(f.name for f in dataclasses.fields(RunConfig)
                     if f.name not in ("molecule", "ansatz", "optimizer", "result"))
__all__ = ["RUN_SETTINGS", "run", "vqe"]


def vqe(problem: Problem | str | Path | Any, ansatz: str | QuantumCircuit = "uccsd",
        optimizer: str | Any = AUTO, *, callback: Callable[[OptimizeResult], Any]
        | None = None, threads: int | None = None, **settings) -> VQEResult:
    """Run VQE on ``problem``: a molecule name, a molecule or FCIDUMP file path, a
    :class:`Problem`, or a qubit Hamiltonian (qiskit ``SparsePauliOp``, PennyLane or
    OpenFermion operator: :func:`~qvopt.chem.operators.problem_from_operator`, whose
    ``n_electrons`` the ``uccsd``/``adapt`` ansätze need; without it give a circuit).

    ``ansatz``, ``optimizer`` and ``settings["backend"]`` may be names or objects (a
    circuit, an ask/tell optimizer, a SamplerV2-like device). ``settings`` are the fields
    of :class:`~qvopt.config.RunConfig` (``shots``, ``seed``, ``maxiter``,
    ``optimizer_options``, ``shot_budget``, ``gtol``, ``initial_point``, ``device``,
    ``ansatz_options``, ``allocation``, ``backend``, ``backend_options``, ``checkpoint``),
    with the same defaults: ``"auto"`` optimizer (``icans``; ``adam`` for
    ``ansatz="adapt"``), 1000 shots per energy evaluation split by the
    ``"variance"`` allocation (``allocation=None``: 1000 per measurement group; exact mode
    with ``shots=None``), the MP2 start for ``"uccsd"`` and zeros for any other ansatz (a
    circuit given as an object starts at zeros unless ``initial_point`` says otherwise).
    ``callback(intermediate)`` gets ``x, fun, stderr, nit, shots_used`` after every update;
    returning True or raising ``StopIteration`` stops. ``threads`` caps the CPU threads
    used for simulation and sampling.
    """
    unknown = sorted(set(settings) - set(RUN_SETTINGS))
    if unknown:
        raise InputError(f"unknown vqe setting(s) {unknown}; valid: {sorted(RUN_SETTINGS)}")
    if not isinstance(optimizer, str) and not isinstance(optimizer, ScipyMethod) and not all(
            hasattr(optimizer, name) for name in ("init", "ask", "tell", "params", "name")):
        raise InputError(f"optimizer must be a name (see qvopt.optimizers.available()) or "
                         f"an ask/tell optimizer (init, ask, tell, params), got {optimizer!r}")
    objects = {"problem": problem if isinstance(problem, Problem) else None,
               "circuit": None if isinstance(ansatz, str) else ansatz,
               "optimizer": None if isinstance(optimizer, str) else optimizer,
               "backend": settings.get("backend") if not isinstance(
                   settings.get("backend", "statevector"), str) else None}
    if objects["optimizer"] is not None and settings.get("optimizer_options"):
        raise InputError("optimizer_options only apply to an optimizer given by name")
    named = {"ansatz": ansatz if objects["circuit"] is None else "uccsd",
             "optimizer": optimizer if objects["optimizer"] is None else "adam",
             "backend": settings.get("backend", "statevector") if objects["backend"] is None
             else "aer"}
    if not isinstance(problem, (Problem, str, Path)):
        problem = objects["problem"] = problem_from_operator(problem)
    if isinstance(problem, Problem):
        molecule = problem.source
        settings.setdefault("taper", getattr(problem, "tapering", None) is not None)
    else:
        molecule = str(problem)
    config = RunConfig(molecule=molecule, **{**settings, **named})
    return run(config, callback=callback, threads=threads, **objects)


def run(config: RunConfig, callback: Callable[[OptimizeResult], Any] | None = None,
        threads: int | None = None, **objects) -> VQEResult:
    """Run the VQE described by ``config``. ``objects`` (``problem``, ``circuit``,
    ``optimizer``, ``backend``) replace the named parts; used by :func:`vqe`.
    ``ansatz="adapt"`` grows the circuit with :func:`qvopt.adapt.adapt_vqe`."""
    if config.checkpoint is not None and Path(config.checkpoint).exists():
        error = InputError(
            f"checkpoint {config.checkpoint!r} already exists: continue that run with "
            f"`qvopt run --resume {config.checkpoint}` (qvopt.resume), or remove the file to "
            "start a new run there")
        error.field = "checkpoint"  # the CLI names the flag
        raise error
    if config.ansatz == "adapt" and not any(v is not None for v in objects.values()):
        from .adapt import run_config  # layer 9, beside this module: imported when needed

        result = run_config(config, callback=callback, threads=threads)
        result["adapt_settings"], result["config"] = result.get("config"), config.to_dict()
        return result
    return run_vqe(config, callback, threads, **objects)
