"""Checkpoints of a VQE run: everything needed to continue the same trajectory.

After every iteration the driver writes (atomically: temporary file + rename) the run's
configuration, the optimizer state, the iteration count, the estimator's random-generator
state, the shot-allocation estimates, the shot ledger and the history. ``qvopt.resume`` /
``qvopt run --resume FILE`` rebuilds the run from the configuration and restores the rest,
so the resumed run continues exactly where the interrupted one stopped.

The file is a pickle (it holds numpy arrays and optimizer NamedTuples): load only
checkpoints you wrote yourself. Credentials are never part of it: IBM backends read them
from the environment or Qiskit's saved account at run time.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .io import write_bytes_atomic

FORMAT = "qvopt-checkpoint-v1"


def check_checkpointable(config: dict, optimizer) -> None:
    """Clear errors for runs that cannot be continued from a checkpoint."""
    if config["problem"] is None:
        raise ValueError("checkpointing needs the molecule as a name or file path")
    if config["ansatz"] is None or config["optimizer"] is None:
        raise ValueError("checkpointing needs the ansatz and the optimizer given by name")
    if config["backend"] is None:
        raise ValueError("checkpointing needs the backend given by name")
    if hasattr(optimizer, "run"):
        raise ValueError(f"optimizer {config['optimizer']!r} runs inside SciPy and cannot be "
                         "checkpointed between iterations")


def save(path, config: dict, state, nit: int, estimator, history: list, last_gradient,
         elapsed: float) -> None:
    payload = {
        "format": FORMAT, "config": {**config, "problem": str(config["problem"])},
        "optimizer_state": state, "nit": nit,
        "rng_state": estimator.rng.bit_generator.state,
        "allocation_variances": (None if estimator.allocator is None
                                 else estimator.allocator.variances.copy()),
        "ledger": (estimator.ledger.shots_used, estimator.ledger.executions,
                   estimator.ledger.evaluations),
        "history": list(history), "last_gradient": last_gradient, "elapsed": elapsed,
    }
    write_bytes_atomic(path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def load(path) -> dict:
    path = Path(path)
    try:
        payload = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        raise ValueError(f"checkpoint {str(path)!r} does not exist") from None
    except Exception as exc:
        raise ValueError(f"{path} is not a readable qvopt checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a qvopt checkpoint (format {FORMAT})")
    return payload


def restore(payload: dict, estimator, history: list):
    """Put the saved state into a freshly built estimator; returns what the loop needs."""
    estimator.rng.bit_generator.state = payload["rng_state"]
    if payload["allocation_variances"] is not None:
        estimator.allocator.variances = np.array(payload["allocation_variances"])
    ledger = estimator.ledger
    ledger.shots_used, ledger.executions, ledger.evaluations = payload["ledger"]
    history.extend(payload["history"])
    return payload["optimizer_state"], payload["nit"], payload["last_gradient"], \
        payload["elapsed"]
