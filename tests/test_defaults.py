"""The shot-frugal run defaults (issue 10): iCANS, 1000 shots per energy evaluation split by
the variance allocation, the MP2 start for UCCSD. These tests fail if a default regresses."""

from __future__ import annotations

import json

import numpy as np
import pytest

import qvopt
from qvopt import RunConfig
from qvopt.ansatz import build_ansatz
from qvopt.chem.mp2 import mp2_initial_point
from qvopt.cli import build_parser, main
from qvopt.config import AUTO, DEFAULT_MAXITER
from qvopt.estimation.estimator import Estimator
from qvopt.estimation.parameter_shift import points_per_parameter

H2_GROUPS = 2  # fully commuting groups: the default grouping of a sampled run
H2_QWC_GROUPS = 5


# ---------------------------------------------------------------- the values
def test_run_config_defaults_resolve_to_the_shot_frugal_settings():
    config = RunConfig("h2")
    assert config.optimizer == "icans"
    assert config.shots == 1000 and config.allocation == "variance"
    assert config.initial_point == "mp2" and config.ansatz == "uccsd"
    assert config.maxiter == DEFAULT_MAXITER == 120
    assert config.final_precision == 1.6e-3
    assert config.auto_fields == {"shots", "optimizer", "allocation", "initial_point",
                                  "final_precision", "tol", "grouping"}
    assert config.grouping == "fc_split"  # sampled, statevector backend, an allocation
    assert config.tol == 1.6e-3 and config.guard is True
    # what results and checkpoints record: the resolved values, never "auto"
    data = config.to_dict()
    assert (data["optimizer"], data["allocation"], data["initial_point"]) == (
        "icans", "variance", "mp2")
    assert AUTO not in {data[name] for name in config.auto_fields}


@pytest.mark.parametrize("shots", [None, "exact", "none"])
def test_exact_mode_defaults_to_no_allocation(shots):
    config = RunConfig("h2", shots=shots)
    assert config.shots is None and config.allocation is None
    assert config.optimizer == "icans" and config.initial_point == "mp2"


@pytest.mark.parametrize("settings", [
    {"shots": None},  # exact: nothing sampled
    {"allocation": None},  # shots per group: fewer groups would change the run itself
    {"ansatz": "adapt"},  # the pool screening measures QWC groups
    {"backend": "fake_manila", "optimizer": "spsa",  # ZNE folds the Cliffords too: unmeasured
     "backend_options": {"mitigation": "readout,zne"}},
    {"backend": "aer", "allocation": None},
])
def test_auto_grouping_is_qubit_wise_where_fully_commuting_groups_were_not_chosen(settings):
    assert RunConfig("h2", **settings).grouping == "sorted_insertion"
    assert RunConfig("h2", grouping="fc", **settings).grouping == "fc"  # a user's choice


@pytest.mark.parametrize("settings", [
    {"backend": "aer"},
    {"backend": "fake_manila", "backend_options": {"mitigation": "readout"}},
    {"backend": "pennylane:default.qubit"},
])
def test_auto_grouping_on_circuit_backends_is_fully_commuting_without_split(settings):
    """Measured on fake_kolkata (lih_fc) and fake_manila (H2): FC's bias equals QWC's, its
    spread is smaller, with fewer circuits; the split (fitted noiselessly) was not."""
    assert RunConfig("h2", **settings).grouping == "fc"
    assert RunConfig("h2", grouping="sorted_insertion", **settings).grouping \
        == "sorted_insertion"


def test_an_explicit_allocation_with_exact_shots_is_still_an_error(capsys):
    with pytest.raises(qvopt.InputError, match="allocation must be None when shots is exact") \
            as info:
        RunConfig("h2", shots=None, allocation="variance")
    assert info.value.field == "allocation"
    assert main(["run", "h2", "--shots", "exact", "--allocation", "variance"]) == 2
    assert "--allocation: allocation must be None" in capsys.readouterr().err


@pytest.mark.parametrize("allocation", [None, "none", "None"])
def test_explicit_no_allocation_means_shots_per_group(allocation):
    config = RunConfig("h2", allocation=allocation)
    assert config.allocation is None and "allocation" not in config.auto_fields


@pytest.mark.parametrize("ansatz, start", [("uccsd", "mp2"), ("hardware_efficient", None),
                                           ("adapt", None)])
def test_initial_point_default_follows_the_ansatz(ansatz, start):
    assert RunConfig("h2", ansatz=ansatz).initial_point == start
    assert RunConfig("h2", ansatz=ansatz, initial_point="hf").initial_point == "hf"
    assert RunConfig("h2", ansatz=ansatz, initial_point=None).initial_point is None


def test_adapt_defaults_icans_when_sampling_and_adam_when_exact():
    config = RunConfig("h2", ansatz="adapt")
    assert config.optimizer == "icans" and config.allocation == "variance"
    assert config.tol == 5e-4  # each re-optimization's convergence test (qvopt.adapt)
    assert RunConfig("h2", ansatz="adapt", optimizer="adam", tol=2e-3).tol == 2e-3
    assert RunConfig("h2", ansatz="adapt", optimizer="adam").optimizer == "adam"
    exact = RunConfig("h2", ansatz="adapt", shots=None)
    assert exact.optimizer == "adam" and exact.tol == 1.6e-3


def test_replace_resolves_the_defaulted_fields_again():
    config = RunConfig("h2")
    exact = config.replace(shots=None)
    assert exact.allocation is None and exact.optimizer == "icans"
    assert exact.final_precision is None
    assert config.replace(ansatz="hardware_efficient").initial_point is None
    assert config.replace(ansatz="adapt").optimizer == "icans"
    assert config.replace(ansatz="adapt", shots=None).optimizer == "adam"
    assert config.replace(maxiter=5) == config.replace(maxiter=5, allocation="variance")
    # values given explicitly stay as given
    weighted = RunConfig("h2", allocation="weighted", initial_point="hf", optimizer="adam",
                         final_precision=None, tol=2e-3, shots=1000,
                         grouping="sorted_insertion")
    assert weighted.auto_fields == frozenset()
    assert weighted.replace(shots=2000, ansatz="hardware_efficient").allocation == "weighted"
    with pytest.raises(qvopt.InputError, match="allocation"):
        weighted.replace(shots=None)


def test_dict_round_trip_keeps_the_resolved_values():
    config = RunConfig("h2", seed=3)
    again = RunConfig.from_dict(config.to_dict())
    assert again == config and again.to_dict() == config.to_dict()
    assert again.auto_fields == frozenset()  # explicit now: a saved run stays what it was
    old = RunConfig.from_dict({"molecule": "h2", "optimizer": "adam", "allocation": None,
                               "initial_point": None})  # a checkpoint of an older run
    assert (old.optimizer, old.allocation, old.initial_point) == ("adam", None, None)


# ---------------------------------------------------------------- the ways in
def test_cli_flags_default_to_the_run_config_defaults():
    args = build_parser().parse_args(["run", "h2"])
    config = RunConfig.from_cli_args(args)
    assert config == RunConfig("h2") and config.auto_fields == RunConfig("h2").auto_fields
    per_group = RunConfig.from_cli_args(build_parser().parse_args(
        ["run", "h2", "--allocation", "none", "--initial-point", "hf", "--optimizer", "adam"]))
    assert (per_group.optimizer, per_group.allocation, per_group.initial_point) == (
        "adam", None, "hf")
    exact = RunConfig.from_cli_args(build_parser().parse_args(["run", "h2", "--shots",
                                                               "exact"]))
    assert exact.allocation is None


def test_run_help_states_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--optimizer icans" in text and "--shots 1000 per energy evaluation" in text
    assert "--allocation variance" in text and "MP2 start for --ansatz uccsd" in text
    assert "auto: icans" in text and "auto: 1000" in text and "default: auto" in text
    assert "auto (mp2 for --ansatz uccsd, else zeros)" in text


def test_run_file_defaults_and_explicit_per_group(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text('molecule = "h2"\n')
    assert RunConfig.from_toml(plain) == RunConfig("h2")
    pinned = tmp_path / "pinned.toml"
    pinned.write_text('molecule = "h2"\nallocation = "none"\ninitial_point = "hf"\n'
                      '[optimizer]\nname = "adam"\n')
    config = RunConfig.from_toml(pinned)
    assert (config.optimizer, config.allocation, config.initial_point) == ("adam", None, "hf")
    exact = tmp_path / "exact.toml"
    exact.write_text('molecule = "h2"\nshots = "exact"\n')
    assert RunConfig.from_toml(exact).allocation is None


def test_dry_run_states_the_resolved_defaults(capsys):
    assert main(["run", "h2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "with icans" in out and "1,000 per evaluation (variance)" in out and "mp2" in out
    assert main(["run", "h2", "--dry-run", "--allocation", "none", "--ansatz",
                 "hardware_efficient"]) == 0
    out = capsys.readouterr().out
    assert "1,000 per group" in out and "zeros" in out


def test_studies_keep_shots_per_group():
    from qvopt.bench.study import make_study, to_run_config

    study = make_study(["h2"], ["adam"], [1000, None], seeds=1)
    configs = [to_run_config(c) for c in study.runs()]
    assert [c.allocation for c in configs] == [None, None]  # `--shots` per group, as documented
    assert [c.optimizer for c in configs] == ["adam", "adam"]


# ---------------------------------------------------------------- runs
@pytest.fixture
def answered(monkeypatch):
    """Every (estimator, request) the driver asks the estimator to answer."""
    calls = []
    original = Estimator.answer

    def spy(self, x, request):
        calls.append((self, request))
        return original(self, x, request)

    monkeypatch.setattr(Estimator, "answer", spy)
    return calls


def test_cli_default_run_records_icans_variance_and_counts_1000_per_evaluation(
        tmp_path, answered, capsys):
    out = tmp_path / "result.json"
    assert main(["run", "h2", "--maxiter", "3", "--seed", "0", "--out", str(out),
                 "--final-precision", "none", "--no-progress"]) == 0
    assert "1000 per evaluation (variance)" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["optimizer"] == "icans" and data["allocation"] == "variance"
    assert data["shots"] == 1000 and data["nit"] == 3
    config = data["config"]
    assert (config["optimizer"], config["allocation"], config["shots"],
            config["initial_point"]) == ("icans", "variance", 1000, "mp2")
    # the ledger: per iteration the energy at θ (1000 shots in all, not per group) plus
    # every shifted point of the gradient with iCANS's per-component shots, which with an
    # allocation are totals per shifted point too; then the final energy (1000 shots)
    assert len(answered) == 3
    estimator = answered[0][0]
    assert estimator.shots_per_evaluation == 1000
    assert estimator.grouped.n_groups == H2_GROUPS and estimator.n_params == 3
    per_parameter = np.asarray(points_per_parameter(estimator.shift_rules()))
    steps = [1000 + int(per_parameter @ np.asarray(request.gradient_shots))
             for _, request in answered]
    # the first gradient: iCANS's problem-derived floor (registry.first_gradient_shots)
    from qvopt.optimizers.registry import first_gradient_shots

    first = first_gradient_shots("icans", estimator)
    assert list(answered[0][1].gradient_shots) == [first] * 3
    assert data["final_shots"] == 1000
    assert data["shots_used"] == sum(steps) + 1000 == estimator.shots_used
    cumulative = [h["shots"] for h in data["history"]]
    assert cumulative == list(np.cumsum(steps)) + [sum(steps) + 1000]


def test_explicit_allocation_none_charges_shots_per_group(h2):
    r = qvopt.vqe(h2, allocation=None, optimizer="adam", initial_point="hf", seed=0, maxiter=2,
                  final_precision=None)
    # per iteration E(θ) + 12 shifted points, then the final energy; 1000 per group each
    assert r.allocation is None and r.config["allocation"] is None
    assert r.config["grouping"] == "sorted_insertion"  # per-group shots keep QWC groups
    assert r.shots_used == 1000 * H2_QWC_GROUPS * (2 * 13 + 1)


def test_exact_default_run_has_no_allocation(h2):
    r = qvopt.vqe(h2, shots=None, maxiter=2)
    assert r.shots_used == 0 and r.allocation is None and r.optimizer == "icans"


def test_uccsd_starts_at_mp2_and_other_ansatze_at_zeros(h2):
    uccsd = build_ansatz("uccsd", h2)
    mp2 = mp2_initial_point(h2, uccsd)
    assert np.any(mp2 != 0)
    r = qvopt.vqe(h2, maxiter=0, seed=0)  # nothing moves: x is the start
    np.testing.assert_array_equal(r.x, mp2)
    assert r.config["initial_point"] == "mp2"
    assert r.history[0]["energy_exact"] == pytest.approx(
        qvopt.Estimator(h2.hamiltonian, uccsd).exact_energy(mp2))
    hea = qvopt.vqe(h2, ansatz="hardware_efficient", maxiter=0, seed=0)
    np.testing.assert_array_equal(hea.x, np.zeros(hea.x.shape))
    assert hea.config["initial_point"] is None
    hf = qvopt.vqe(h2, initial_point="hf", maxiter=0, seed=0)
    np.testing.assert_array_equal(hf.x, np.zeros(3))


def test_a_circuit_given_as_an_object_starts_at_zeros(h2):
    circuit = build_ansatz("uccsd", h2)
    r = qvopt.vqe(h2, ansatz=circuit, maxiter=0, seed=0)
    np.testing.assert_array_equal(r.x, np.zeros(3))
    assert r.config["initial_point"] is None
    assert r.history[0]["energy_exact"] == pytest.approx(h2.e_hf, abs=1e-8)
    # asked for explicitly, MP2 still needs the uccsd ansatz by name
    with pytest.raises(qvopt.InputError, match="needs the uccsd ansatz"):
        qvopt.vqe(h2, ansatz=circuit, initial_point="mp2", maxiter=0)
    with pytest.raises(qvopt.InputError, match="needs the uccsd ansatz"):
        qvopt.vqe(h2, ansatz="hardware_efficient", initial_point="mp2", maxiter=0)


def test_checkpoint_of_a_default_run_resumes_with_the_same_settings(h2, tmp_path):
    from qvopt.checkpoint import load, saved_config

    ck = tmp_path / "run.ckpt"
    full = qvopt.vqe("h2", seed=5, maxiter=4)
    part = qvopt.vqe("h2", seed=5, maxiter=2, checkpoint=ck)
    meta, _ = load(ck)
    saved = saved_config(meta, ck)
    assert (saved.optimizer, saved.allocation, saved.initial_point) == ("icans", "variance",
                                                                        "mp2")
    # the checkpoint holds every option the optimizer was built with (defaults and the
    # problem's included), so a later change of defaults cannot change a resumed run
    assert saved.optimizer_options["max_shots"] == 20 * saved.optimizer_options["min_shots"]
    assert saved.replace(optimizer_options={}) == RunConfig("h2", seed=5, maxiter=2,
                                                             checkpoint=str(ck))
    resumed = qvopt.resume(ck, maxiter=4)
    assert part.nit == 2 and resumed.nit == 4
    np.testing.assert_array_equal(resumed.x, full.x)
    assert resumed.shots_used == full.shots_used


def test_a_checkpoint_from_before_the_shot_cap_resumes_uncapped(h2, tmp_path):
    from qvopt.checkpoint import CHECKPOINT, read_archive, write_archive

    ck = tmp_path / "old.ckpt"
    qvopt.vqe("h2", seed=5, maxiter=2, checkpoint=ck)
    meta, arrays = read_archive(ck, CHECKPOINT)
    meta["config"]["optimizer_options"] = {}  # what checkpoints held before
    write_archive(ck, CHECKPOINT, meta, arrays)
    resumed = qvopt.resume(ck, maxiter=3)
    assert resumed.config["optimizer_options"] == {"max_shots": None}


def test_adapt_runs_with_the_defaults(tmp_path):
    out = tmp_path / "adapt.json"
    assert main(["run", "h2", "--ansatz", "adapt", "--maxiter", "3", "--seed", "0",
                 "--out", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text())
    assert data["config"]["optimizer"] == "icans" and data["config"]["allocation"] == "variance"


@pytest.mark.parametrize("value, message", [
    ("-1", "--final-precision: final_precision must be a standard error in Ha > 0"),
    ("abc", "--final-precision must be a standard error in Ha"),
])
def test_bad_final_precision_is_named(value, message, capsys):
    try:
        code = main(["run", "h2", "--final-precision", value, "--maxiter", "1"])
    except SystemExit as exit_info:  # argparse's own type check
        code = exit_info.code
    assert code == 2 and message in capsys.readouterr().err


def test_final_precision_auto_and_none_from_the_command_line(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "h2", "--maxiter", "2", "--seed", "1", "--out", str(out),
                 "--no-progress"]) == 0
    data = json.loads(out.read_text())
    assert data["config"]["final_precision"] == 1.6e-3 and data["stderr"] <= 1.6e-3
    assert main(["run", "h2", "--maxiter", "2", "--seed", "1", "--final-precision", "none",
                 "--out", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text())
    assert data["config"]["final_precision"] is None and data["final_shots"] == 1000


def test_adapt_defaults_measure_the_final_energy_like_any_run():
    # round 3 (issue 20): ADAPT's final energy to the run's precision, not one evaluation
    config = RunConfig("h2", ansatz="adapt")
    assert config.optimizer == "icans" and config.final_precision == 1.6e-3
    assert RunConfig("h2", ansatz="adapt", final_precision=1e-3).final_precision == 1e-3
    assert RunConfig("h2", ansatz="adapt", shots=None).final_precision is None


def test_auto_grouping_is_qubit_wise_above_fourteen_qubits():
    # split coefficients made a 16-qubit gradient 5x slower and 2.7x larger (n2_fc), and
    # h8's dry run was refused for memory: above 14 qubits "auto" keeps QWC groups
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.quantum_info import SparsePauliOp

    from qvopt.run_defaults import SPLIT_MAX_QUBITS, grouping_for_size

    assert grouping_for_size("fc_split", SPLIT_MAX_QUBITS) == "fc_split"
    assert grouping_for_size("fc_split", SPLIT_MAX_QUBITS + 1) == "sorted_insertion"
    assert grouping_for_size("fc", 20) == "fc"  # a user's choice is never changed here
    n = 16
    terms = [("I" * (n - 1 - q) + "Z" + "I" * q, 0.1 * (q + 1)) for q in range(n)]
    terms += [("XX" + "I" * (n - 2), 0.05), ("YY" + "I" * (n - 2), 0.05)]
    operator = SparsePauliOp.from_list(terms)
    circuit = QuantumCircuit(n)
    circuit.ry(Parameter("a"), 0)
    circuit.cx(0, 1)
    r = qvopt.vqe(operator, ansatz=circuit, seed=0, maxiter=0, final_precision=None)
    assert r.config["grouping"] == "sorted_insertion"
    small = SparsePauliOp.from_list([(label[-4:], c) for label, c in terms[:4]])
    circuit4 = QuantumCircuit(4)
    circuit4.ry(Parameter("a"), 0)
    r4 = qvopt.vqe(small, ansatz=circuit4, seed=0, maxiter=0, final_precision=None)
    assert r4.config["grouping"] == "fc_split"
