"""Independent random streams per purpose, spawned from one ``SeedSequence``.

An estimator draws energy shots, fidelity shots, metric shots and backend-job seeds from
four generators ``SeedSequence(seed).spawn(4)`` (in :data:`STREAMS` order), so that asking
for a metric or a fidelity never changes the energies that follow. Their state is plain
data (ints, str, dicts) and round-trips through JSON.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import CheckpointError, InputError

STREAMS = ("energy", "fidelity", "metric", "backend")


def seed_sequence(seed) -> np.random.SeedSequence:
    """``int | None | SeedSequence | Generator`` → a SeedSequence.

    A Generator is turned into ``SeedSequence(entropy=g.integers(2**63, size=4))``: this
    advances ``g`` by four draws and is deterministic given its state.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence([int(v) for v in seed.integers(2**63, size=4)])
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
                        and int(seed) >= 0):
        return np.random.SeedSequence(None if seed is None else int(seed))
    raise InputError(f"seed must be a non-negative int, None, a numpy SeedSequence or a "
                     f"numpy Generator, got {seed!r}")


def spawn_streams(seed) -> dict[str, np.random.Generator]:
    """One PCG64 generator per name in :data:`STREAMS`, independent of each other."""
    children = seed_sequence(seed).spawn(len(STREAMS))
    return {name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(STREAMS, children, strict=True)}


def _plain(value):
    """numpy scalars and arrays inside a bit-generator state → Python ints/floats/lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def streams_state(streams: dict[str, np.random.Generator]) -> dict:
    """``{name: bit_generator.state}`` as JSON-serializable plain data."""
    return {name: _plain(g.bit_generator.state) for name, g in streams.items()}


def set_streams_state(streams: dict[str, np.random.Generator], state: dict) -> None:
    """Restore every stream from :func:`streams_state` output (a CheckpointError if a
    stream is missing or its state does not fit)."""
    if not isinstance(state, dict) or set(state) != set(streams):
        raise CheckpointError(f"random state must hold the streams {sorted(streams)}, got "
                              f"{sorted(state) if isinstance(state, dict) else state!r}")
    for name, generator in streams.items():
        try:
            generator.bit_generator.state = state[name]
        except (TypeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"random state of stream {name!r} is invalid: {exc}") from exc
