"""Zero-noise extrapolation (ZNE) on transpiled circuits: unitary folding + extrapolation.

Written on Qiskit circuits here rather than with Mitiq: Mitiq is not a dependency of qvopt
(nor installed), and its executors take one circuit at a time, whereas qvopt sends every
folded circuit of every group and point as PUBs of one SamplerV2 job per distinct shot
count. Folding is applied to the *transpiled ISA* circuits, so the folded gates are the gates
the device runs (nothing is re-transpiled, so nothing can cancel ``U†U``).

Folding (scale factor ``λ = 2k + 1``, odd integers only):

* ``"global"``: ``U → U (U† U)^k``: every gate is run ``λ`` times, so a noise channel of
  strength ``ε`` per gate is (to first order) run at ``λ ε``;
* ``"gates"``: every two-qubit gate ``G → G (G† G)^k``, single-qubit gates untouched (only
  the two-qubit noise, the dominant one on devices, is scaled).

Measurements (and the barrier before them) stay at the end, once. Inverses stay in the ISA
basis: ``rz(θ)† = rz(−θ)``, ``sx† = sx·x`` (``sx⁴ = 1``), ``x, cx, cz, ecr`` self-inverse.

Extrapolation of each group's mean ``m(λ)`` to ``λ = 0`` from ``K`` scales ``λ_k`` with
measured means ``y_k`` and variances of the means ``σ²_k``:

* ``"richardson"``: the degree-``K−1`` polynomial through all points,
  ``m̂(0) = Σ_k γ_k y_k`` with ``γ_k = Π_{j≠k} λ_j / (λ_j − λ_k)`` (``Σ γ_k = 1``);
* ``"linear"``: least-squares line ``y = a + bλ``, ``m̂(0) = a = Σ_k γ_k y_k`` with
  ``γ = e₀ᵀ (XᵀX)⁻¹ Xᵀ``, ``X = [1, λ_k]``;
* ``"exponential"``: ``m(λ) = A e^{−cλ}`` with asymptote 0 (each group's Pauli sum is
  traceless, so complete depolarization sends its mean to 0): a least-squares line through
  ``ln|y_k|``, i.e. ``m̂(0) = s Π_k |y_k|^{γ_k}`` with the *linear* weights ``γ`` and the
  common sign ``s``. Where the ``y_k`` change sign or vanish the group falls back to linear.

Variances (the scales are independent samples): for the linear rules
``Var m̂(0) = Σ_k γ_k² σ²_k`` exactly; for the exponential the delta method,
``∂m̂/∂y_k = γ_k m̂ / y_k``, so ``Var m̂(0) ≈ m̂² Σ_k γ_k² σ²_k / y_k²``.

Shots: the ``N`` shots of a (group, point) are *split* over the scales, ``N_k ∝ |γ_k|``
(largest remainders, each ≥ 1, ``Σ_k N_k = N``): for equal per-shot variances this split
minimises ``Σ_k γ_k² σ²/N_k`` at fixed ``N``. So ZNE costs the same shots as an unmitigated
evaluation (the ledger and ``Estimator.cost`` need no change) and its price shows up as a
larger stderr: ``≈ (Σ_k |γ_k|)²`` times the unmitigated variance (12.25 for ``[1, 3, 5]``
Richardson, 3.06 for ``[1, 3]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction

from ..errors import InputError

MITIGATIONS = ("readout", "zne")
FOLDINGS = ("global", "gates")
EXTRAPOLATIONS = ("richardson", "linear", "exponential")
ZNE_OPTIONS = ("scale_factors", "folding", "extrapolation")
SELF_INVERSE = frozenset({"x", "y", "z", "h", "cx", "cz", "ecr", "swap", "id", "cy"})
ANGLE_NEGATED = frozenset({"rz", "rx", "ry", "p", "u1", "rzz", "rxx", "ryy", "rzx"})
END_OF_CIRCUIT = frozenset({"measure", "barrier"})


def parse_mitigation(value) -> frozenset[str]:
    """``None``, ``"readout"``, ``"readout,zne"`` or a list of names → a set of names."""
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    try:
        names = frozenset(str(v).strip() for v in items if str(v).strip())
    except TypeError:
        raise InputError(f"mitigation must be a name or a list of names from {MITIGATIONS}, "
                         f"got {value!r}") from None
    unknown = sorted(names - set(MITIGATIONS))
    if unknown:
        raise InputError(f"unknown mitigation(s) {unknown} in {value!r}; valid: "
                         f"{list(MITIGATIONS)}")
    return names


@dataclass(frozen=True)
class ZNESettings:
    """What ``backend_options["zne"]`` asks for (defaults: ``[1, 3, 5]``, global folding,
    Richardson)."""

    scale_factors: tuple[int, ...] = (1, 3, 5)
    folding: str = "global"
    extrapolation: str = "richardson"

    @classmethod
    def from_options(cls, options: dict | None) -> ZNESettings:
        """Validated settings; an :class:`~qvopt.errors.InputError` names a bad key/value."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(ZNE_OPTIONS))
        if unknown:
            raise InputError(f"unknown zne option(s) {unknown}; valid: {list(ZNE_OPTIONS)}")
        scales = tuple(options.get("scale_factors", cls.scale_factors))
        folding = options.get("folding", cls.folding)
        extrapolation = options.get("extrapolation", cls.extrapolation)
        if folding not in FOLDINGS:
            raise InputError(f"zne folding must be one of {list(FOLDINGS)}, got {folding!r}")
        if extrapolation not in EXTRAPOLATIONS:
            raise InputError(f"zne extrapolation must be one of {list(EXTRAPOLATIONS)}, got "
                             f"{extrapolation!r}")
        check_scale_factors(scales)
        return cls(tuple(int(s) for s in scales), folding, extrapolation)

    def weights(self) -> np.ndarray:
        """The linear extrapolation weights ``γ_k`` of this rule (exponential: of the line
        through ``ln|y|``)."""
        return extrapolation_weights(self.scale_factors, self.extrapolation)


#: Largest ZNE noise scale and number of scales: a circuit folded to scale λ is λ times as
#: deep (and its transpiled copy as large); 1, 3, 5 is the usual choice.
MAX_SCALE_FACTOR = 21
MAX_SCALE_FACTORS = 8


def check_scale_factors(scales: Sequence) -> None:
    """At least two (at most :data:`MAX_SCALE_FACTORS`) distinct odd positive integers of at
    most :data:`MAX_SCALE_FACTOR` (folding gives only odd scales)."""
    ok = (2 <= len(scales) <= MAX_SCALE_FACTORS
          and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                  and 1 <= s <= MAX_SCALE_FACTOR and s % 2 == 1 for s in scales)
          and len(set(scales)) == len(scales))
    if not ok:
        shown = [s if not isinstance(s, int) or abs(s) < 10**6 else f"{s:.3g}"
                 for s in list(scales)[:MAX_SCALE_FACTORS + 1]]
        raise InputError(f"zne scale_factors must be 2 to {MAX_SCALE_FACTORS} distinct odd "
                         f"integers from 1 to {MAX_SCALE_FACTOR} (unitary folding scales "
                         f"the circuit's depth by 2k+1), got {shown!r}")


# ---------------------------------------------------------------------------- folding
def inverse_operation(operation):
    """The inverse of an ISA gate, kept in the ISA basis where the rule is known
    (``rz(θ)† = rz(−θ)``, ``sx† = sx·x`` is returned as a list, self-inverse gates as
    themselves); other gates use Qiskit's ``inverse()``."""
    name = operation.name
    if name in SELF_INVERSE:
        return [operation]
    if name in ANGLE_NEGATED:
        inverse = operation.to_mutable()
        inverse.params = [-p for p in operation.params]
        return [inverse]
    if name == "sx":
        from qiskit.circuit.library import XGate

        return [operation, XGate()]
    return [operation.inverse()]


def _split_tail(circuit: QuantumCircuit) -> tuple[list, list]:
    """(unitary instructions, final barrier + measurements)."""
    data = list(circuit.data)
    cut = len(data)
    while cut and data[cut - 1].operation.name in END_OF_CIRCUIT:
        cut -= 1
    body, tail = data[:cut], data[cut:]
    bad = sorted({i.operation.name for i in body if i.operation.name in ("measure", "reset")})
    if bad:
        raise InputError(f"cannot fold circuit {circuit.name!r}: mid-circuit {bad}")
    return body, tail


def _inverse_instructions(body: list) -> list:
    """``U†`` as instructions: the body reversed, each gate inverted."""
    out = []
    for inst in reversed(body):
        if inst.operation.name == "barrier":
            out.append(inst)
            continue
        for op in inverse_operation(inst.operation):
            out.append(CircuitInstruction(op, inst.qubits, inst.clbits))
    return out


def _rebuilt(circuit: QuantumCircuit, data: list, scale: int) -> QuantumCircuit:
    folded = circuit.copy_empty_like(name=f"{circuit.name}_fold{scale}")
    for inst in data:
        folded.append(inst)
    return folded


def fold_global(circuit: QuantumCircuit, scale: int) -> QuantumCircuit:
    """``U (U† U)^k`` + the final measurements, ``scale = 2k + 1``."""
    check_scale_factors([scale, scale + 2])
    body, tail = _split_tail(circuit)
    inverse = _inverse_instructions(body)
    data = list(body)
    for _ in range((scale - 1) // 2):
        data += inverse + body
    return _rebuilt(circuit, data + tail, scale)


def fold_gates(circuit: QuantumCircuit, scale: int) -> QuantumCircuit:
    """Every two-qubit gate ``G → G (G† G)^k``, ``scale = 2k + 1``; other gates as they are."""
    check_scale_factors([scale, scale + 2])
    body, tail = _split_tail(circuit)
    data = []
    for inst in body:
        data.append(inst)
        if inst.operation.num_qubits == 2 and inst.operation.name != "barrier":
            inverse = _inverse_instructions([inst])
            for _ in range((scale - 1) // 2):
                data += inverse + [inst]
    return _rebuilt(circuit, data + tail, scale)


def fold(circuit: QuantumCircuit, scale: int, folding: str) -> QuantumCircuit:
    """``circuit`` folded to noise scale ``scale`` (``circuit`` itself at scale 1)."""
    if scale == 1:
        return circuit
    if folding == "global":
        return fold_global(circuit, scale)
    if folding == "gates":
        return fold_gates(circuit, scale)
    raise InputError(f"zne folding must be one of {list(FOLDINGS)}, got {folding!r}")


# ---------------------------------------------------------------------------- extrapolation
def richardson_weights(scales: Sequence[float]) -> np.ndarray:
    """``γ_k = Π_{j≠k} λ_j / (λ_j − λ_k)``: the Lagrange polynomial through all points, at 0."""
    lam = np.asarray(scales, dtype=float)
    out = np.ones(len(lam))
    for k in range(len(lam)):
        others = np.delete(lam, k)
        out[k] = np.prod(others / (others - lam[k]))
    return out


def linear_weights(scales: Sequence[float]) -> np.ndarray:
    """``γ = e₀ᵀ (XᵀX)⁻¹ Xᵀ`` with ``X = [1, λ_k]``: the least-squares line's intercept."""
    lam = np.asarray(scales, dtype=float)
    design = np.column_stack([np.ones_like(lam), lam])
    return np.linalg.pinv(design)[0]


def extrapolation_weights(scales: Sequence[float], method: str) -> np.ndarray:
    """Weights ``γ_k`` with ``m̂(0) = Σ γ_k y_k`` (``"exponential"``: of ``ln|y|``)."""
    if method == "richardson":
        return richardson_weights(scales)
    if method in ("linear", "exponential"):
        return linear_weights(scales)
    raise InputError(f"zne extrapolation must be one of {list(EXTRAPOLATIONS)}, got "
                     f"{method!r}")


def extrapolate(means: np.ndarray, variances: np.ndarray, scales: Sequence[float],
                method: str) -> tuple[np.ndarray, np.ndarray]:
    """Zero-noise values and their variances from per-scale means/variances.

    ``means``, ``variances``: (K, …) with the scale axis first; returns arrays of shape (…).
    Linear rules: ``Σ γ_k y_k`` and ``Σ γ_k² σ²_k``. Exponential (asymptote 0):
    ``s Π |y_k|^{γ_k}`` with delta-method variance ``m̂² Σ γ_k² σ²_k / y_k²``, falling back
    to the linear rule where the ``y_k`` do not share one nonzero sign.
    """
    means = np.asarray(means, dtype=float)
    variances = np.asarray(variances, dtype=float)
    gamma = extrapolation_weights(scales, method).reshape((-1,) + (1,) * (means.ndim - 1))
    value = np.sum(gamma * means, axis=0)
    variance = np.sum(gamma**2 * variances, axis=0)
    if method != "exponential":
        return value, variance
    sign = np.sign(means[0])
    usable = np.all(np.sign(means) == sign, axis=0) & (sign != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.abs(np.where(usable, means, 1.0)))
        exp_value = sign * np.exp(np.sum(gamma * logs, axis=0))
        exp_variance = exp_value**2 * np.sum(gamma**2 * variances
                                             / np.where(usable, means, 1.0)**2, axis=0)
    return np.where(usable, exp_value, value), np.where(usable, exp_variance, variance)


def split_shots(shots: np.ndarray, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Split each entry ``N`` of ``shots`` over ``K`` scales, ``N_k ∝ |γ_k|``, each ≥ 1,
    summing to ``N`` exactly (largest remainders). Returns (K, *shots.shape) int64."""
    shots = np.asarray(shots, dtype=np.int64)
    w = np.abs(np.asarray(weights, dtype=float))
    k = len(w)
    if np.any(shots < k):
        raise InputError(f"zne with {k} scale factors needs at least {k} shots per group "
                         f"and point, got {int(shots.min())}")
    share = w / w.sum()
    spare = shots - k  # one shot per scale first
    ideal = spare[None, ...] * share.reshape((-1,) + (1,) * shots.ndim)
    base = np.floor(ideal).astype(np.int64)
    remainder = spare - base.sum(axis=0)
    order = np.argsort(-(ideal - base), axis=0, kind="stable")
    rank = np.argsort(order, axis=0, kind="stable")
    base += (rank < remainder[None, ...]).astype(np.int64)
    return base + 1
