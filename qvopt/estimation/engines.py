"""How the noiseless states behind an :class:`~.estimator.Estimator` are computed.

Two engines: the particle-number **sector** engine (:mod:`.sector`: states of an
excitation-gate circuit such as UCCSD in the N-electron sector, CPU numpy) and **Aer**
statevectors (:mod:`.statevector`: any circuit, CPU or GPU). Each comes with the sampler
that draws honest shots from its states and serves exact references (``exact_energy``,
``predicted_stderr``), also when a circuit backend does the sampling.
"""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .observable import SampledObservable
from .sampler import ReferenceSampler, StatevectorSampler
from .sector import SectorEngine, sector_unsupported_reason
from .sector_sampler import SectorSampler
from .statevector import AerStatevectorEngine

ENGINES = ("auto", "aer", "sector")


def build_reference(engine_name: str, circuit: QuantumCircuit, hamiltonian: SparsePauliOp,
                    observable: SampledObservable, device: str, threads: int | None
                    ) -> tuple[SectorEngine | AerStatevectorEngine, ReferenceSampler]:
    """``(engine, sampler)`` for ``engine_name`` ("sector" or "aer", see
    :func:`choose_engine`): the state engine and the noiseless sampler on top of it."""
    if engine_name == "sector":
        sector = SectorEngine(circuit)
        return sector, SectorSampler(sector, observable, hamiltonian)
    aer = AerStatevectorEngine(circuit, device=device, threads=threads)
    return aer, StatevectorSampler(aer, observable)


def choose_engine(engine: str, circuit: QuantumCircuit, backend, device: str) -> str:
    """``"sector"`` or ``"aer"`` for the ``engine`` argument of :class:`Estimator`.

    ``"auto"``: sector when the circuit qualifies (:func:`.sector.sector_unsupported_reason`),
    ``backend == "statevector"`` and ``device`` is CPU; else Aer. ``"sector"`` on a circuit
    that does not qualify, or with ``device="GPU"``, is an :class:`InputError` that says why.
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    if engine == "aer":
        return "aer"
    on_cpu = isinstance(device, str) and device.upper() == "CPU"
    reason = sector_unsupported_reason(circuit)
    if engine == "auto":
        statevector = isinstance(backend, str) and backend == "statevector"
        return "sector" if reason is None and statevector and on_cpu else "aer"
    if reason is not None:
        raise InputError(f"engine='sector' needs a circuit made of a basis-state reference (X "
                         f"gates) followed by qvopt excitation gates only: {reason}; use "
                         f"engine='aer' or 'auto' for other circuits")
    if not on_cpu:
        raise InputError(f"engine='sector' runs on the CPU (numpy), not device={device!r}; "
                         "use engine='aer' for the GPU")
    return "sector"
