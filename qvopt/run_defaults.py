"""The defaults of a run, each measured (see the comment beside it), and what the
``"auto"`` settings of a :class:`~qvopt.config.RunConfig` become.

Plain values and pure functions only: :mod:`qvopt.setting_checks` resolves ``"auto"``
with them, :mod:`qvopt.config` makes them the field defaults, and the CLI, studies and
runs read them from here (or from :mod:`qvopt.config`, which re-exports them).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ADAPT_OPTIMIZER", "ADAPT_SAMPLED_OPTIMIZER", "ADAPT_SAMPLED_TOL", "ALLOCATIONS",
           "AUTO", "DEFAULT_ALLOCATION", "DEFAULT_FINAL_PRECISION", "DEFAULT_GROUPING",
           "DEFAULT_MAXITER",
           "DEFAULT_OPTIMIZER", "DEFAULT_SHOTS", "DEFAULT_TOL", "INITIAL_POINTS",
           "MIN_FINAL_PRECISION", "MIN_SHOTS_PER_GROUP", "QWC_GROUPING", "SPLIT_MAX_QUBITS",
           "default_grouping", "grouping_for_size",
           "default_initial_point",
           "default_shots", "is_auto"]

#: Optimizer updates of a run (``maxiter``).
DEFAULT_MAXITER = 120
#: Shots of one energy evaluation (``shots="auto"``), split over the measurement groups.
DEFAULT_SHOTS = 1000
#: With ``shots="auto"`` (the default) and an allocation, a problem with more measurement
#: groups than ``DEFAULT_SHOTS / MIN_SHOTS_PER_GROUP`` gets this many shots per group
#: instead (the allocation's floor: a sample variance needs two shots), rounded up to a
#: hundred: NH3 with a frozen core has 567 groups (1200 shots).
MIN_SHOTS_PER_GROUP = 2

#: The default of ``optimizer``, ``allocation``, ``initial_point`` and
#: ``final_precision``: resolved from the other settings when a :class:`RunConfig` is made
#: (see :mod:`qvopt.config`); never stored.
AUTO = "auto"
#: What ``optimizer="auto"`` becomes; with ``ansatz="adapt"``, :data:`ADAPT_OPTIMIZER` in
#: exact mode and :data:`ADAPT_SAMPLED_OPTIMIZER` when sampling (each re-optimization
#: behind the guard with ``tol`` :data:`ADAPT_SAMPLED_TOL`: on H4 at 2 Å, seed 0, Adam
#: stalled near 20 mHa, iCANS with tol 1.6e-3 reached 5.0 mHa and with 5e-4 1.46 mHa).
DEFAULT_OPTIMIZER = "icans"
ADAPT_OPTIMIZER = "adam"
ADAPT_SAMPLED_OPTIMIZER = "icans"
ADAPT_SAMPLED_TOL = 5e-4
#: What ``allocation="auto"`` becomes when sampling (``shots`` is not None).
DEFAULT_ALLOCATION = "variance"
#: What ``final_precision="auto"`` becomes when sampling: the final energy is measured to a
#: standard error of chemical accuracy (1.6 mHa), in Ha.
DEFAULT_FINAL_PRECISION = 1.6e-3
#: What ``tol="auto"`` becomes: the run stops when the guard's noise-aware test says
#: further iterations cannot improve the energy by more than this (Ha, 95% bound; see
#: :mod:`qvopt.guard`): chemical accuracy left to gain. Measured on the tuning set (h2,
#: lih_fc, lih; 8 seeds, benchmarks/defaults_robustness.py): tol 1e-3 / 1.6e-3 / 2e-3 /
#: 4e-3 gave whole-run shots 2.0e5 / 1.4e5 / 1.1e5 / 8.8e4 on h2 and 2.7e8 / 9.1e7 /
#: 5.8e7 / 3.1e7 on lih, worst final error 0.5 / 1.3 / 1.3 / 1.9 mHa (4e-3: one h2 and
#: one lih_fc run ended above its start).
DEFAULT_TOL = 1.6e-3
ALLOCATIONS = ("uniform", "weighted", "variance")
INITIAL_POINTS = ("hf", "mp2")

#: What ``grouping="auto"`` becomes for a sampled run of a fixed circuit on the noiseless
#: ``statevector`` backend: fully commuting groups with each shared term's coefficient split
#: between the groups it commutes with (``fc_split``), measured in each group's Clifford
#: basis. Default runs, 16 seeds each, iCANS's first gradient scaled by the prior variance
#: (benchmarks/grouping_defaults.py, results/grouping_defaults_stop4.json): whole-run shots
#: against QWC sorted insertion lih_fc 2.2e6 vs 9.6e6, lih 4.5e7 vs 8.4e7, held out LiH fc
#: at 3 Å 8.2e6 vs 2.1e7 with 12/16 within chemical accuracy against 6/16 (plain fc 7/16);
#: against plain fc 1.8x fewer on lih_fc, 1.4x on lih; level on H2 and HF.
DEFAULT_GROUPING = "fc_split"
#: What ``grouping="auto"`` becomes for a sampled fixed-circuit run with an allocation on a
#: circuit backend (Aer with or without a noise model, fake and IBM devices, PennyLane
#: devices) without zero-noise extrapolation: fully commuting groups, each measured after
#: its Clifford. Measured at the exact UCCSD optimum, 4000 shots per evaluation
#: (benchmarks/grouping_on_devices.py, results/grouping_fake_*): on lih_fc on fake_kolkata
#: (522 two-qubit gates per QWC circuit, FC's Cliffords add up to 107) the device bias is
#: the same, +991.5 ± 1.3 (QWC) vs +992.8 ± 0.9 mHa (FC, density matrices), FC's shot
#: spread is 1.37x smaller with 20 circuits instead of 85; on H2 (fake_manila, readout
#: mitigation) bias +209 / +211 mHa, spread 10.2 / 9.8 mHa. The split coefficients are
#: not used there: fitted on the noiseless ground state, they measured 7.2 ± 1.7 mHa more
#: bias than QWC on lih_fc. With ZNE, whose folding repeats the Clifford gates too, and
#: which was not measured, QWC stays.
CIRCUIT_GROUPING = "fc"
#: What ``grouping="auto"`` becomes everywhere else: ADAPT, whose pool screening measures
#: QWC groups; runs with ZNE; exact runs, which sample nothing; and ``allocation=None``.
QWC_GROUPING = "sorted_insertion"


#: The largest problem (qubits) for which ``grouping="auto"`` keeps :data:`DEFAULT_GROUPING`;
#: larger ones get :data:`QWC_GROUPING` (:func:`grouping_for_size`). Split coefficients
#: break the equal-value outcome classes the sector engine draws from: on n2_fc (16
#: qubits) a 1000-shot gradient took 10.4 s and 5.4 GB with fc_split against 1.9 s and
#: 2.0 GB with QWC groups, and h8's dry run was refused (9.7 GB predicted for a gradient).
SPLIT_MAX_QUBITS = 14


def grouping_for_size(grouping: str, n_qubits: int) -> str:
    """What an ``"auto"`` grouping resolved to ``grouping`` becomes for a problem of
    ``n_qubits``: :data:`QWC_GROUPING` instead of :data:`DEFAULT_GROUPING` above
    :data:`SPLIT_MAX_QUBITS`, else unchanged."""
    if grouping == DEFAULT_GROUPING and n_qubits > SPLIT_MAX_QUBITS:
        return QWC_GROUPING
    return grouping


def default_grouping(backend: Any, ansatz: str, sampled: bool, allocated: bool = True,
                     zne: bool = False) -> str:
    """What ``grouping="auto"`` becomes for a sampled fixed-circuit run whose shots are
    split by an allocation (``shots`` the total of an evaluation): :data:`DEFAULT_GROUPING`
    on the ``statevector`` backend, :data:`CIRCUIT_GROUPING` on circuit backends without
    ZNE; else :data:`QWC_GROUPING`. Without an allocation ``shots`` are per group, and
    fewer, larger groups would change what a run spends and measures rather than measure
    the same energy with fewer shots."""
    if not (sampled and allocated and ansatz != "adapt"):
        return QWC_GROUPING
    if isinstance(backend, str) and backend.strip().lower() == "statevector":
        return DEFAULT_GROUPING
    return QWC_GROUPING if zne else CIRCUIT_GROUPING

#: The smallest final precision accepted (Ha): the shots a standard error ε needs grow as
#: 1/ε² (water: 1.1e7 shots for 1.6 mHa, so 1e-5 Ha takes ~3e11).
MIN_FINAL_PRECISION = 1e-5


def default_shots(n_groups: int) -> int:
    """What ``shots="auto"`` becomes for a problem of ``n_groups`` measurement groups with an
    allocation: ``DEFAULT_SHOTS``, or enough for ``MIN_SHOTS_PER_GROUP`` in every group."""
    needed = MIN_SHOTS_PER_GROUP * int(n_groups)
    return max(DEFAULT_SHOTS, -(-needed // 100) * 100)


def default_initial_point(ansatz: str) -> str | None:
    """What ``initial_point="auto"`` becomes: ``"mp2"`` for the ``uccsd`` ansatz, else None
    (zeros)."""
    return "mp2" if ansatz == "uccsd" else None


def is_auto(value: Any) -> bool:
    """Whether ``value`` is :data:`AUTO` (any case, surrounding spaces ignored)."""
    return isinstance(value, str) and value.strip().lower() == AUTO
