"""Circuit-based backends: noisy Aer, fake IBM devices, IBM Quantum hardware, PennyLane devices.

Backend names (``Estimator(backend=...)``, ``vqe(backend=...)``, ``qvopt run --backend``):

* ``"statevector"`` — the default, noiseless fast path (:mod:`.statevector`), not here;
* ``"aer"`` — Aer with a simple noise model from ``backend_options["noise"]``
  (``{"depolarizing": p1, "depolarizing_2q": p2, "readout": q}``);
* ``"fake_<device>"`` (any ``qiskit_ibm_runtime.fake_provider`` snapshot, e.g.
  ``"fake_manila"``) — Aer with that device's noise model, coupling map and basis;
* ``"ibm:<backend>"`` — IBM Quantum hardware through qiskit-ibm-runtime's SamplerV2 in
  Batch mode (``backend_options["mode"] = "session"``: a Session); credentials come from
  ``QISKIT_IBM_TOKEN`` (+ ``QISKIT_IBM_INSTANCE``, ``QISKIT_IBM_CHANNEL``) or Qiskit's saved
  account and are never written anywhere;
* an object with a SamplerV2-style ``run(pubs, shots=...)`` — used as it is (tests use
  this to put a failing device in front of qvopt).

For each measurement group the ansatz, the group's basis rotation (QWC) or diagonalizing
Clifford (``grouping="fc"``, :mod:`.commuting`) and a measurement of every logical qubit
(clbit ``k`` = logical qubit ``k``, so counts need no layout bookkeeping) form one circuit,
transpiled once to the device (ISA); every call sends all (group, point) pairs as PUBs of
one job. Counts become integer outcome arrays from the packed bit arrays (no per-shot
Python loops). Failed submissions are retried with exponential backoff.

Readout mitigation (``backend_options["mitigation"] = "readout"``): two calibration
circuits (all 0, all 1) give per-qubit assignment matrices ``M_q`` (``P(measured|true)``);
a group's per-outcome values ``v`` are replaced by ``w = (⊗_q M_q⁻¹)ᵀ v``. The estimate is
still the mean of per-shot values, now of ``w``, so its standard error comes from the
sample variance as before; it is unbiased when readout errors are independent per qubit.

Zero-noise extrapolation (``backend_options["mitigation"] = ["readout", "zne"]`` or
``"zne"``, settings in ``backend_options["zne"]``, see :mod:`.mitigation`): every group's
transpiled circuit is folded to each scale factor once; each call sends all (scale, group,
point) PUBs, one job per distinct shot count; the (group, point) shots are split over the
scales and the per-group means are extrapolated to zero noise with propagated variances.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, transpile

from ..errors import BackendError, InputError, missing_extra
from .commuting import CommutingGroup
from .grouping import GroupedHamiltonian
from .mitigation import ZNESettings, extrapolate, fold, parse_mitigation, split_shots
from .sampler import GroupMoments, moments_from_counts

__all__ = ["BACKEND_OPTIONS", "BackendError", "CircuitSampler", "Device", "fake_backend",
           "ibm_credentials_present"]

BACKEND_OPTIONS = {"noise", "mitigation", "max_retries", "retry_delay", "optimization_level",
                   "calibration_shots", "zne", "mode"}
IBM_MODES = ("batch", "session")


def fake_backend(name: str):
    """A ``qiskit_ibm_runtime.fake_provider`` device by snake-case name (``fake_manila``)."""
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError:
        raise missing_extra(f"backend {name!r}", "ibm") from None
    wanted = name.lower()
    available = {}
    for attr in dir(fake_provider):
        if attr.startswith("Fake") and attr.endswith("V2"):
            snake = "fake_" + attr[4:-2].lower()
            available[snake] = attr
    if wanted not in available:
        raise InputError(f"unknown fake backend {name!r}: expected one of "
                         f"{sorted(available)[:10]}… ({len(available)} in qiskit-ibm-runtime)")
    return getattr(fake_provider, available[wanted])()


def simple_noise_model(noise: dict):
    """Depolarizing (1q, 2q) and symmetric readout errors from a plain dict."""
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

    allowed = {"depolarizing", "depolarizing_2q", "readout"}
    unknown = sorted(set(noise) - allowed)
    if unknown:
        raise InputError(f"unknown noise option(s) {unknown}; valid: {sorted(allowed)}")
    model = NoiseModel(basis_gates=["rz", "sx", "x", "cx"])
    p1, p2, q = (float(noise.get(k, 0.0)) for k in ("depolarizing", "depolarizing_2q",
                                                     "readout"))
    for name, value in (("depolarizing", p1), ("depolarizing_2q", p2), ("readout", q)):
        if not 0 <= value < 1:
            raise InputError(f"noise option {name!r} must be in [0, 1), got {value}")
    if p1:
        model.add_all_qubit_quantum_error(depolarizing_error(p1, 1), ["rz", "sx", "x"])
    if p2:
        model.add_all_qubit_quantum_error(depolarizing_error(p2, 2), ["cx"])
    if q:
        model.add_all_qubit_readout_error(ReadoutError([[1 - q, q], [q, 1 - q]]))
    return model


def ibm_credentials_present() -> bool:
    """Whether a token is in the environment or a saved Qiskit account file exists."""
    if os.environ.get("QISKIT_IBM_TOKEN"):
        return True
    return os.path.isfile(os.path.expanduser("~/.qiskit/qiskit-ibm.json"))


def check_ibm_credentials() -> None:
    """A :class:`~qvopt.errors.BackendError` when no IBM Quantum credentials are present."""
    if not ibm_credentials_present():
        raise BackendError("no IBM Quantum credentials: set QISKIT_IBM_TOKEN (and "
                           "QISKIT_IBM_INSTANCE) or save an account with "
                           "QiskitRuntimeService.save_account(...)")


def _ibm_service_and_device(name: str):
    """``(QiskitRuntimeService, backend)`` from the environment's or the saved credentials."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    check_ibm_credentials()
    try:
        token = os.environ.get("QISKIT_IBM_TOKEN")
        kwargs = {}
        if token:
            kwargs = {"token": token,
                      "channel": os.environ.get("QISKIT_IBM_CHANNEL", "ibm_quantum_platform")}
            if os.environ.get("QISKIT_IBM_INSTANCE"):
                kwargs["instance"] = os.environ["QISKIT_IBM_INSTANCE"]
        service = QiskitRuntimeService(**kwargs)
        return service, service.backend(name)
    except Exception as exc:  # noqa: BLE001 -- the message may contain the token; never log it
        raise BackendError(f"cannot reach IBM backend {name!r}: {type(exc).__name__}") from None


class RuntimeConnection:
    """One open qiskit-ibm-runtime execution mode (``Batch`` or ``Session``) on a backend and
    the ``SamplerV2`` bound to it.

    Opened lazily at the first submission; :meth:`reopen` (called by the sampler after a
    failed submission, before its retry) closes the current mode and opens a fresh one on the
    next submission, since a failure may mean the session expired (``max_time``, interactive
    timeout) or was cancelled. :meth:`close` ends it (a Session is billed while open).
    """

    def __init__(self, device, mode: str):
        if mode not in IBM_MODES:
            raise InputError(f"mode must be one of {list(IBM_MODES)}, got {mode!r}")
        self.device, self.mode = device, mode
        self._context = None
        self._sampler = None
        self.opened = 0  # how many modes were opened (tests, reports)

    def sampler(self, seed: int = 0):
        """The SamplerV2 of the open mode (opening one if needed); ``seed`` is unused."""
        if self._sampler is None:
            import qiskit_ibm_runtime as runtime

            kind = runtime.Session if self.mode == "session" else runtime.Batch
            self._context = kind(backend=self.device)
            self._sampler = runtime.SamplerV2(mode=self._context)
            self.opened += 1
        return self._sampler

    def reopen(self) -> None:
        """Close the current mode (errors ignored); the next :meth:`sampler` opens anew."""
        self.close()

    def close(self) -> None:
        """Close the open mode, if any (errors ignored: it may have expired already)."""
        context, self._context, self._sampler = self._context, None, None
        if context is not None:
            with contextlib.suppress(Exception):  # closing an expired session may fail
                context.close()


def for_devices(circuit: QuantumCircuit) -> QuantumCircuit:
    """qvopt's excitation gates inlined, with controlled RYs as Gray-code CNOT/RY networks
    (H2 UCCSD on fake_manila: 40 CNOTs after routing instead of 58 with the generic
    decomposition; CNOTs are what devices pay for)."""
    from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME, gray_code_mcry

    inlined = circuit.decompose(gates_to_decompose=[SINGLE_NAME, DOUBLE_NAME])
    out = QuantumCircuit(*inlined.qregs, *inlined.cregs)
    for inst in inlined.data:
        if inst.operation.name == "mcry":
            network = gray_code_mcry(inst.operation.params[0], inst.operation.num_qubits - 1)
            out.compose(network, inst.qubits, inplace=True)
        else:
            out.append(inst)
    return out


def measured_for_group(circuit: QuantumCircuit, group) -> QuantumCircuit:
    """``circuit`` + the group's measurement rotation + a measurement of all qubits: the
    basis change of a QWC group (:func:`measured_in_basis`) or the Clifford ``U`` of a fully
    commuting group (:class:`~.commuting.CommutingGroup`, outcome values ``v_g`` in the
    rotated frame)."""
    if isinstance(group, CommutingGroup):
        measured = circuit.compose(group.circuit())
        measured.measure_all()
        return measured
    return measured_in_basis(circuit, group.basis)


def measured_in_basis(circuit: QuantumCircuit, basis: str) -> QuantumCircuit:
    """``circuit`` + the rotation into ``basis`` (qubit 0 first) + a measurement of all qubits."""
    measured = circuit.copy()
    for qubit, b in enumerate(basis):
        if b == "X":
            measured.h(qubit)
        elif b == "Y":
            measured.sdg(qubit)
            measured.h(qubit)
    measured.measure_all()
    return measured


def counts_from_bits(bit_array, n_points: int, n_qubits: int) -> np.ndarray:
    """(points, 2^n) outcome counts from a SamplerV2 BitArray (outcome bit k = clbit k)."""
    packed = np.asarray(bit_array.array)  # (points, shots, bytes), big-endian bytes
    packed = packed.reshape(n_points, -1, packed.shape[-1])
    weights = 256 ** np.arange(packed.shape[-1] - 1, -1, -1, dtype=np.int64)
    outcomes = (packed.astype(np.int64) * weights).sum(axis=-1) & ((1 << n_qubits) - 1)
    offsets = (np.arange(n_points, dtype=np.int64) * 2**n_qubits)[:, None]
    flat = np.bincount((outcomes + offsets).ravel(), minlength=n_points * 2**n_qubits)
    return flat.reshape(n_points, 2**n_qubits)


@dataclass(frozen=True)
class Device:
    """Where measured circuits run: ``make(seed)`` returns a SamplerV2-like object (Aer
    samplers get a fresh seed for every job, drawn from the estimator's ``backend`` stream);
    ``target`` is what circuits are transpiled for (``None``: a generic CX basis)."""

    name: str
    make: Callable[[int], Any]  # a SamplerV2-like object: run(pubs, shots=) -> job
    target: object = None
    recover: Callable[[], None] | None = None  # after a failed submission, before the retry
    close: Callable[[], None] | None = None  # when the sampler is done (or collected)


def aer_device(options: dict) -> Device:
    """Aer with the simple noise model of ``options["noise"]`` (noiseless without it)."""
    from qiskit_aer.primitives import SamplerV2 as AerSampler

    noise = simple_noise_model(options.get("noise") or {})
    return Device("aer", lambda seed: AerSampler(
        seed=seed, options={"backend_options": {"noise_model": noise}}))


def fake_device(name: str) -> Device:
    """Aer with a fake IBM device's noise model, coupling map and basis."""
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import SamplerV2 as AerSampler

    simulator = AerSimulator.from_backend(fake_backend(name))
    return Device(name, lambda seed: AerSampler.from_backend(simulator, seed=seed), simulator)


def ibm_device(name: str, mode: str = "batch") -> Device:
    """IBM Quantum hardware ``ibm:<name>`` through SamplerV2 in a Batch (default) or a
    Session (``mode="session"``: jobs run back to back with the device reserved, so an
    iterative VQE does not queue between iterations) — see :class:`RuntimeConnection`."""
    try:
        import qiskit_ibm_runtime  # noqa: F401
    except ImportError:
        raise missing_extra("backend 'ibm:…'", "ibm") from None
    _, device = _ibm_service_and_device(name.split(":", 1)[1])
    connection = RuntimeConnection(device, mode)
    return Device(name, connection.sampler, device, connection.reopen, connection.close)


def custom_device(backend) -> Device:
    """A user's SamplerV2-like object (``run(pubs, shots=...)``), used as it is."""
    return Device(getattr(backend, "name", "custom"), lambda seed: backend,
                  getattr(backend, "target_backend", None))


def check_options(options: dict | None) -> dict:
    """Known circuit-backend options with valid values (cheap: nothing is built).

    ``mitigation``: ``None``, ``"readout"``, ``"zne"``, ``"readout,zne"`` or a list of those;
    ``zne``: :class:`~.mitigation.ZNESettings` keys (checked whenever given); ``mode``:
    ``"batch"`` (default) or ``"session"`` (IBM hardware only; ignored by simulators).
    """
    options = dict(options or {})
    unknown = sorted(set(options) - BACKEND_OPTIONS)
    if unknown:
        raise InputError(f"unknown backend option(s) {unknown}; valid: "
                         f"{sorted(BACKEND_OPTIONS)}")
    parse_mitigation(options.get("mitigation"))
    if options.get("zne") is not None:
        if not isinstance(options["zne"], dict):
            raise InputError(f"backend option 'zne' must be a table/dict, got {options['zne']!r}")
        ZNESettings.from_options(options["zne"])
    if options.get("mode", "batch") not in IBM_MODES:
        raise InputError(f"backend option 'mode' must be one of {list(IBM_MODES)}, got "
                         f"{options['mode']!r}")
    if options.get("noise"):
        simple_noise_model(options["noise"])
    return options


class CircuitSampler:
    """Measured circuits per group on a noisy simulator, a fake device or hardware.

    Implements :class:`~.sampler.Sampler` (``stream = "backend"``: the generator passed to
    :meth:`sample` only seeds the simulator's jobs).
    """

    stream = "backend"

    def __init__(self, circuit: QuantumCircuit, grouped: GroupedHamiltonian, device: Device,
                 options: dict | None = None, seed_source: np.random.Generator | None = None):
        options = check_options(options)
        self.n_qubits = circuit.num_qubits
        self.grouped = grouped
        self.max_retries = int(options.get("max_retries", 3))
        self.retry_delay = float(options.get("retry_delay", 1.0))
        self.mitigations = parse_mitigation(options.get("mitigation"))
        self.mitigation = ",".join(sorted(self.mitigations)) or None
        self.zne = (ZNESettings.from_options(options.get("zne"))
                    if "zne" in self.mitigations else None)
        self.calibration_shots = int(options.get("calibration_shots", 10_000))
        self.name, self._factory, self._recover = device.name, device.make, device.recover
        self._finalizer = (None if device.close is None
                           else weakref.finalize(self, device.close))
        level = int(options.get("optimization_level", 1))
        compile_kwargs = ({"backend": device.target} if device.target is not None
                          else {"basis_gates": ["rz", "sx", "x", "cx"]})
        inlined = for_devices(circuit)
        self.circuits = [transpile(measured_for_group(inlined, g), optimization_level=level,
                                   seed_transpiler=11, **compile_kwargs)
                         for g in grouped.groups]
        self.scales = self.zne.scale_factors if self.zne else (1,)
        self.run_circuits = [fold(c, s, self.zne.folding) if self.zne else c
                             for s in self.scales for c in self.circuits]
        position = {p: i for i, p in enumerate(circuit.parameters)}
        self.columns = [[position[p] for p in c.parameters] for c in self.run_circuits]
        seed_source = seed_source if seed_source is not None else np.random.default_rng()
        self.calibration = (self._calibrate(compile_kwargs, level, seed_source)
                            if "readout" in self.mitigations else None)
        self.calibration_spent = 2 * self.calibration_shots if self.calibration else 0
        self.values = [self.mitigated_values(g.values(self.n_qubits)) for g in grouped.groups]

    @property
    def circuits_per_group(self) -> int:
        """Circuits run per (group, point): the number of ZNE scale factors (1 without ZNE);
        for the ledger's execution count (shots are unaffected: they are split)."""
        return len(self.scales)

    def close(self) -> None:
        """Release the device's execution mode (an IBM Batch/Session), once; no-op
        otherwise."""
        if self._finalizer is not None:
            self._finalizer()

    def circuit_costs(self) -> list[dict]:
        """Depth and two-qubit gate count of every circuit a call runs, per scale factor
        (``scale`` 1 only without ZNE) and group."""
        n_groups = len(self.circuits)
        return [{"scale": self.scales[i // n_groups], "group": i % n_groups,
                 "depth": c.depth(),
                 "two_qubit_gates": sum(1 for inst in c.data
                                        if inst.operation.num_qubits == 2
                                        and inst.operation.name != "barrier")}
                for i, c in enumerate(self.run_circuits)]

    def _calibrate(self, compile_kwargs, level, rng) -> list[np.ndarray]:
        n = self.n_qubits
        zero, one = QuantumCircuit(n), QuantumCircuit(n)
        one.x(range(n))
        circuits = []
        for prep in (zero, one):
            prep.measure_all()
            circuits.append(transpile(prep, optimization_level=level, seed_transpiler=11,
                                      **compile_kwargs))
        results = self._submit([(c,) for c in circuits], self.calibration_shots, rng)
        counts = [counts_from_bits(r.data.meas, 1, n)[0] for r in results]
        outcomes = np.arange(2**n)
        matrices = []
        for q in range(n):
            bit = (outcomes >> q) & 1
            p10 = counts[0][bit == 1].sum() / self.calibration_shots  # measured 1 | true 0
            p01 = counts[1][bit == 0].sum() / self.calibration_shots  # measured 0 | true 1
            matrices.append(np.array([[1 - p10, p01], [p10, 1 - p01]]))
        return matrices

    # ------------------------------------------------------------------ execution
    def _submit(self, pubs, shots: int, rng: np.random.Generator):
        last = None
        for attempt in range(self.max_retries + 1):
            try:
                sampler = self._factory(int(rng.integers(2**31)))
                return sampler.run(pubs, shots=int(shots)).result()
            except Exception as exc:  # noqa: BLE001 -- retried; the last becomes a BackendError
                last = exc
                if self._recover is not None:
                    self._recover()
                if attempt < self.max_retries:
                    time.sleep(self.retry_delay * 2**attempt)
        raise BackendError(f"backend {self.name!r} failed {self.max_retries + 1} times: "
                           f"{type(last).__name__}: {last}")

    def mitigated_values(self, values: np.ndarray) -> np.ndarray:
        """``(⊗_q M_q⁻¹)ᵀ v`` (identity without mitigation)."""
        if self.calibration is None:
            return values
        n = self.n_qubits
        tensor = values.reshape((2,) * n)
        for q, matrix in enumerate(self.calibration):
            axis = n - 1 - q
            tensor = np.moveaxis(np.tensordot(np.linalg.inv(matrix).T, tensor,
                                              axes=([1], [axis])), 0, axis)
        return tensor.reshape(-1)

    def counts(self, points: np.ndarray, shots: np.ndarray, rng: np.random.Generator
               ) -> list[np.ndarray]:
        """Outcome counts (P, 2^n) of every run circuit (scale-major: index ``k G + g``) with
        ``shots`` (P, K G): one job per distinct shot count, holding a PUB for each circuit
        and the points measured with that count."""
        shots = np.asarray(shots, dtype=np.int64)
        circuits = self.run_circuits
        out = [np.zeros((len(points), 2**self.n_qubits), dtype=np.int64) for _ in circuits]
        for s in np.unique(shots[shots > 0]):  # a (point, circuit) with 0 shots is not run
            jobs = [(k, np.flatnonzero(shots[:, k] == s)) for k in range(len(circuits))]
            jobs = [(k, rows) for k, rows in jobs if len(rows)]
            pubs = [(circuits[k], points[np.ix_(rows, np.asarray(self.columns[k], np.intp))])
                    if self.columns[k] else (circuits[k],) for k, rows in jobs]
            results = self._submit(pubs, int(s), rng)
            for (k, rows), result in zip(jobs, results, strict=True):
                n_rows = len(rows) if self.columns[k] else 1
                out[k][rows] = counts_from_bits(result.data.meas, n_rows, self.n_qubits)
        return out

    def sample(self, points: np.ndarray, shots: np.ndarray, rng: np.random.Generator
               ) -> GroupMoments:
        """Per-group moments from measured counts (see :func:`.sampler.moments_from_counts`);
        with ZNE, each (point, group)'s shots split over the scales
        (:func:`.mitigation.split_shots`) and the per-scale moments extrapolated
        (:func:`.mitigation.extrapolate`). ``moments.shots`` is what was asked: every shot
        of every folded circuit is one of them."""
        shots = np.asarray(shots, dtype=np.int64)
        if self.zne is None:
            return moments_from_counts(self.counts(points, shots, rng), self.values, shots,
                                       self.grouped.constant)
        per_scale = split_shots(shots, self.zne.weights())  # (K, P, G)
        flat = np.concatenate(list(per_scale), axis=1)  # (P, K G), scale-major
        moments = moments_from_counts(self.counts(points, flat, rng),
                                      self.values * len(self.scales), flat, 0.0)
        n_points, n_groups = shots.shape
        means = moments.means.reshape(n_points, len(self.scales), n_groups).transpose(1, 0, 2)
        variances = moments.variances.reshape(means.transpose(1, 0, 2).shape).transpose(1, 0, 2)
        value, variance = extrapolate(means, variances, self.scales, self.zne.extrapolation)
        return GroupMoments(value, variance, shots, self.grouped.constant)

    def exact(self, points: np.ndarray) -> np.ndarray:
        raise InputError(f"backend {self.name!r} samples measurements: give shots "
                         "(exact values need backend='statevector')")
