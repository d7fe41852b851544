"""One table of backends: name pattern → cheap check and :class:`~.sampler.Sampler` factory.

=========================  =============================================================
form                       sampler
=========================  =============================================================
``"statevector"``          :class:`~.sampler.StatevectorSampler` (noiseless, fast path)
``"aer"``                  :class:`~.backends.CircuitSampler` on Aer (+ simple noise)
``"fake_<device>"``        CircuitSampler on Aer with a fake IBM device's noise model
``"ibm:<name>"``           CircuitSampler on IBM Quantum hardware (SamplerV2; Batch, or
                           Session with ``backend_options={"mode": "session"}``)
``"pennylane:<device>"``   :class:`~.pennylane_device.PennyLaneSampler`
a SamplerV2-like object    CircuitSampler on that object's ``run(pubs, shots=...)``
=========================  =============================================================

:func:`validate_backend` runs only the cheap check (name and options; for IBM, that
credentials exist; for fake devices, that the device exists) without building anything;
:func:`make_sampler` runs it, then the factory. Errors: bad names and options are
:class:`~qvopt.errors.InputError`, a missing optional package
:class:`~qvopt.errors.MissingExtraError`, missing IBM credentials
:class:`~qvopt.errors.BackendError`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError, missing_extra

if TYPE_CHECKING:  # the backends are imported when a sampler is built, not with the table
    from .backends import Device
    from .sampler import ReferenceSampler


@dataclass(frozen=True)
class SamplerContext:
    """What a sampler factory may use (built once by the Estimator)."""

    backend: object
    circuit: QuantumCircuit
    hamiltonian: SparsePauliOp
    reference: ReferenceSampler  # the estimator's noiseless sampler (engine + observable)
    shots: int | None
    options: dict
    rng: np.random.Generator  # the estimator's "backend" stream (calibration jobs)


@dataclass(frozen=True)
class BackendForm:
    """One row of the table: ``form`` as users write it, ``matches(backend)``,
    ``check(backend, options)`` (cheap) and ``build(context) -> Sampler``."""

    form: str
    matches: Callable[[object], bool]
    check: Callable[[object, dict], None]
    build: Callable[[SamplerContext], object]


def _named(prefix: str, exact: bool = False) -> Callable[[object], bool]:
    if exact:
        return lambda backend: isinstance(backend, str) and backend == prefix
    return lambda backend: isinstance(backend, str) and backend.startswith(prefix)


def _check_statevector(backend, options: dict) -> None:
    if options:
        raise InputError("backend_options only apply to circuit backends (aer, fake_*, ibm:*)")


def _check_circuit(backend, options: dict) -> None:
    from .backends import check_options

    check_options(options)


def _check_fake(backend, options: dict) -> None:
    from .backends import fake_backend

    _check_circuit(backend, options)
    fake_backend(backend)


def _check_ibm(backend, options: dict) -> None:
    from .backends import check_ibm_credentials

    if importlib.util.find_spec("qiskit_ibm_runtime") is None:
        raise missing_extra(f"backend {backend!r}", "ibm")
    _check_circuit(backend, options)
    check_ibm_credentials()


def _check_pennylane(backend, options: dict) -> None:
    from .pennylane_device import import_pennylane

    if options:
        raise InputError(f"backend {backend!r} takes no backend_options, got {sorted(options)}")
    if not backend.split(":", 1)[1]:
        raise InputError("backend 'pennylane:<device>' needs a device name, e.g. "
                         "'pennylane:default.qubit'")
    import_pennylane()


def _build_statevector(ctx: SamplerContext):
    return ctx.reference


def _circuit_builder(device_of: Callable[[SamplerContext], Device]):
    def build(ctx: SamplerContext):
        from .backends import CircuitSampler

        if ctx.shots is None:
            raise InputError(f"backend {_label(ctx.backend)!r} samples measurements: give "
                             "shots (exact values need backend='statevector')")
        return CircuitSampler(ctx.circuit, ctx.reference.observable.grouped, device_of(ctx),
                              ctx.options, seed_source=ctx.rng)

    return build


def _device(kind: str) -> Callable[[SamplerContext], Device]:
    def device_of(ctx: SamplerContext) -> Device:
        from . import backends

        if kind == "aer":
            return backends.aer_device(ctx.options)
        if kind == "ibm":
            return backends.ibm_device(str(ctx.backend), ctx.options.get("mode", "batch"))
        return getattr(backends, f"{kind}_device")(ctx.backend)

    return device_of


def _build_pennylane(ctx: SamplerContext):
    from .pennylane_device import PennyLaneSampler

    return PennyLaneSampler(ctx.circuit, ctx.hamiltonian, ctx.reference.observable.grouped,
                            str(ctx.backend).split(":", 1)[1])


def _is_device_object(backend) -> bool:
    return not isinstance(backend, str) and callable(getattr(backend, "run", None))


BACKENDS: tuple[BackendForm, ...] = (
    BackendForm("statevector", _named("statevector", exact=True), _check_statevector,
                _build_statevector),
    BackendForm("aer", _named("aer", exact=True), _check_circuit, _circuit_builder(_device("aer"))),
    BackendForm("fake_<device>", _named("fake_"), _check_fake, _circuit_builder(_device("fake"))),
    BackendForm("ibm:<name>", _named("ibm:"), _check_ibm, _circuit_builder(_device("ibm"))),
    BackendForm("pennylane:<device>", _named("pennylane:"), _check_pennylane, _build_pennylane),
    BackendForm("a SamplerV2-like object with run(pubs, shots=...)", _is_device_object,
                _check_circuit, _circuit_builder(_device("custom"))),
)


def _label(backend) -> str:
    return backend if isinstance(backend, str) else getattr(backend, "name", "custom")


def find_backend(backend) -> BackendForm:
    """The table row whose pattern ``backend`` matches; else an InputError listing forms."""
    for row in BACKENDS:
        if row.matches(backend):
            return row
    forms = ", ".join(repr(r.form) if "<" in r.form or r.form.isidentifier() else r.form
                      for r in BACKENDS)
    raise InputError(f"unknown backend {backend!r}: expected one of {forms}")


def validate_backend(name, options: dict | None = None) -> None:
    """Cheap check of a backend name (or object) and its options; builds nothing.

    ``statevector`` takes no options; circuit backends take :data:`.backends.BACKEND_OPTIONS`;
    ``fake_<device>`` must exist in qiskit-ibm-runtime; ``ibm:<name>`` needs
    qiskit-ibm-runtime and credentials; ``pennylane:<device>`` needs PennyLane.
    """
    find_backend(name).check(name, dict(options or {}))


def make_sampler(ctx: SamplerContext):
    """Validate ``ctx.backend`` and build its sampler."""
    row = find_backend(ctx.backend)
    row.check(ctx.backend, ctx.options)
    return row.build(ctx)
