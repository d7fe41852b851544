"""Checkpoints are data (no pickle), resume bit for bit, and refuse what they cannot trust."""

from __future__ import annotations

import json
import pickle
import shutil
import zipfile

import numpy as np
import pytest

import qvopt
from qvopt.checkpoint import load
from qvopt.errors import CheckpointError

FIELDS = ("iteration", "energy", "stderr", "energy_exact", "shots", "time")


def _rows(history, fields=FIELDS[:-1]):
    return [tuple(h[f] for f in fields) for h in history]


@pytest.mark.parametrize("optimizer, options", [
    ("adam", {}), ("spsa", {"blocking": True}), ("qng", {}), ("2spsa", {}),
    ("rmsprop", {"plateau": {"patience": 2}}),
])
def test_resume_reproduces_the_uninterrupted_run(h2, tmp_path, optimizer, options):
    kwargs = dict(optimizer=optimizer, optimizer_options=options, seed=9, shots=300)
    full = qvopt.vqe(h2.spec.source, maxiter=8, **kwargs)
    ck = tmp_path / "run.ckpt"
    qvopt.vqe(h2.spec.source, maxiter=3, checkpoint=ck, **kwargs)
    resumed = qvopt.resume(ck, maxiter=8)
    assert _rows(resumed.history) == _rows(full.history)
    assert np.array_equal(resumed.x, full.x) and resumed.shots_used == full.shots_used
    assert resumed.nfev == full.nfev


def test_checkpoint_is_not_a_pickle(h2, tmp_path):
    ck = tmp_path / "run.ckpt"
    qvopt.vqe(h2.spec.source, seed=1, maxiter=2, checkpoint=ck)
    with pytest.raises(Exception), open(ck, "rb") as handle:  # noqa: B017
        pickle.load(handle)
    with np.load(ck, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
    assert meta["nit"] == 2 and meta["config"]["maxiter"] == 2
    assert len(meta["records"]) == 2 and meta["version"] == 2


def test_relative_molecule_path_is_stored_resolved(tmp_path, monkeypatch):
    shutil.copy(qvopt.load_problem("h2").spec.source, tmp_path / "mol.toml")
    monkeypatch.chdir(tmp_path)
    qvopt.vqe("mol.toml", seed=1, maxiter=1, checkpoint="run.ckpt")
    meta, _ = load(tmp_path / "run.ckpt")
    assert meta["config"]["molecule"] == str((tmp_path / "mol.toml").resolve())
    monkeypatch.chdir("/")
    assert qvopt.resume(tmp_path / "run.ckpt", maxiter=2).nit == 2


def test_resume_refuses_a_changed_molecule_file(tmp_path):
    mol = tmp_path / "mol.toml"
    shutil.copy(qvopt.load_problem("h2").spec.source, mol)
    ck = tmp_path / "run.ckpt"
    qvopt.vqe(mol, seed=1, maxiter=1, checkpoint=ck)
    mol.write_text(mol.read_text().replace("0.7414", "0.7500"))
    with pytest.raises(CheckpointError, match="changed since this checkpoint"):
        qvopt.resume(ck, maxiter=3)


def _edit_meta(path, change):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta)
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    path.with_suffix(path.suffix + ".npz").replace(path) if not path.exists() else None


@pytest.mark.parametrize("change, field", [
    (lambda m: m.update(nit="three"), "nit"),
    (lambda m: m.pop("ledger"), "ledger"),
    (lambda m: m["ledger"].update(shots_used=-5), "ledger.shots_used"),
    (lambda m: m["records"][0].pop(), "records[0]"),
    (lambda m: m["config"].update(shots=-1), "config"),
    (lambda m: m["config"].update(optimizer="sgd"), "optimizer_state"),
    (lambda m: m.update(version=99), "version"),
    (lambda m: m.update(nit=-5), "nit"),
    (lambda m: m.update(nit=10**6), "nit"),
    (lambda m: m.update(elapsed=float("nan")), "elapsed"),
    (lambda m: m["ledger"].update(shots_used=True), "ledger.shots_used"),
    # the optimizer's own state sits inside the guard's (qvopt.guard) as "inner"
    (lambda m: m["optimizer_state"]["fields"]["inner"]["fields"].update(step={"value": "abc"}),
     "optimizer_state.inner.step"),
    (lambda m: m["optimizer_state"]["fields"]["inner"]["fields"].update(x={"array": [1]}),
     "optimizer_state.inner.x"),
    (lambda m: m["optimizer_state"]["fields"]["inner"]["fields"].update(
        rule_state={"dict": {}}), "optimizer_state.inner.rule_state"),
    (lambda m: m["optimizer_state"]["fields"].update(scale={"value": "abc"}),
     "optimizer_state.scale"),
    (lambda m: m["config"].clear(), "config"),
])
def test_hand_edited_checkpoint_names_the_field(h2, tmp_path, change, field):
    ck = tmp_path / "run.npz"
    qvopt.vqe(h2.spec.source, optimizer="adam", seed=1, maxiter=2, checkpoint=ck)
    _edit_meta(ck, change)
    with pytest.raises(CheckpointError, match=field.replace("[", r"\[")):
        qvopt.resume(ck)


def test_truncated_or_foreign_checkpoint(h2, tmp_path):
    ck = tmp_path / "run.ckpt"
    qvopt.vqe(h2.spec.source, seed=1, maxiter=2, checkpoint=ck)
    data = ck.read_bytes()
    ck.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable qvopt checkpoint"):
        qvopt.resume(ck)
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as archive:
        archive.writestr("x.npy", b"not numpy")
    with pytest.raises(CheckpointError):
        qvopt.resume(tmp_path / "other.npz")
    with pytest.raises(CheckpointError, match="does not exist"):
        qvopt.resume(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="is a directory"):
        qvopt.resume(tmp_path)


def test_what_cannot_be_checkpointed_is_refused_before_running(h2, tmp_path):
    with pytest.raises(qvopt.InputError, match="runs inside SciPy"):
        qvopt.vqe(h2.spec.source, optimizer="lbfgs", checkpoint=tmp_path / "x")
    circuit = qvopt.ansatz.build_ansatz("uccsd", h2)
    with pytest.raises(qvopt.InputError, match="given by name"):
        qvopt.vqe(h2, ansatz=circuit, checkpoint=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_state_arrays_must_keep_their_shape(h2, tmp_path):
    ck = tmp_path / "run.npz"
    qvopt.vqe(h2.spec.source, optimizer="adam", seed=1, maxiter=2, checkpoint=ck)
    with np.load(ck, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["meta"]))
    key = meta["optimizer_state"]["fields"]["inner"]["fields"]["x"]["array"]
    arrays[key] = np.zeros(7)
    np.savez(ck, **arrays)
    with pytest.raises(CheckpointError, match=r"optimizer_state.inner.x.*shape"):
        qvopt.resume(ck)
    arrays[key] = np.array(["a", "b", "c"])
    np.savez(ck, **arrays)
    with pytest.raises(CheckpointError, match="numeric"):
        qvopt.resume(ck)


def test_files_qvopt_writes_have_the_usual_mode(h2, tmp_path):
    import os

    ck = tmp_path / "run.ckpt"
    qvopt.vqe(h2.spec.source, seed=1, maxiter=1, checkpoint=ck)
    mask = os.umask(0o022)
    os.umask(mask)
    assert ck.stat().st_mode & 0o777 == 0o666 & ~mask


def test_vqe_checkpoint_layout_is_unchanged(h2, tmp_path):
    ck = tmp_path / "run.ckpt"
    qvopt.vqe(h2.spec.source, optimizer="adam", seed=1, maxiter=2, checkpoint=ck)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]  # no temp file left
    with np.load(ck, allow_pickle=False) as archive:
        files = set(archive.files)
        meta = json.loads(str(archive["meta"]))
    assert {"meta", "x", "last_gradient"} <= files
    assert all(f.startswith("state.") for f in files - {"meta", "x", "last_gradient"})
    # round 3 added earlier_final_shots (optional when read: older files resume)
    assert set(meta) == {"format", "version", "config", "molecule_sha256", "nit", "elapsed",
                         "ledger", "random_state", "optimizer_state", "records",
                         "earlier_final_shots"}
    assert (meta["format"], meta["version"]) == ("qvopt-checkpoint", 2)
    assert set(meta["ledger"]) == {"shots_used", "executions", "evaluations"}


def test_shared_container_checks_the_kind_and_the_common_fields(tmp_path):
    from dataclasses import replace

    from qvopt.checkpoint import ArchiveKind, read_archive, write_archive

    kind = ArchiveKind("test checkpoint", "qvopt-test", 1, {"extra": list}, ("y",))
    meta = {"format": "qvopt-test", "version": 1, "molecule_sha256": "0" * 64, "nit": 0,
            "elapsed": 0, "ledger": {"shots_used": 0, "executions": 0, "evaluations": 0},
            "extra": []}
    path = tmp_path / "t.npz"
    write_archive(path, kind, meta, {"y": np.arange(3)})
    got, arrays = read_archive(path, kind)
    assert got == meta and list(arrays) == ["y"] and arrays["y"].tolist() == [0, 1, 2]
    with pytest.raises(CheckpointError, match="t.npz: checkpoint field 'z' is missing"):
        read_archive(path, replace(kind, arrays=("z",)))
    with pytest.raises(CheckpointError, match=r"t.npz is not a qvopt other \(format o\)"):
        read_archive(path, replace(kind, name="other", format="o"))
    with pytest.raises(CheckpointError, match="field 'more' must be str, got None"):
        read_archive(path, replace(kind, fields={"more": str}))
    write_archive(path, kind, {**meta, "ledger": {}}, {"y": np.arange(3)})
    with pytest.raises(CheckpointError, match="t.npz: checkpoint field 'ledger.shots_used'"):
        read_archive(path, kind)


def test_a_round_2_icans_checkpoint_resumes(h2, tmp_path):
    """Round 2 wrote iCANS states without the running curvature and runs without the
    guard; such a checkpoint resumes (constant step, no guard) instead of being refused."""
    import json

    ck = tmp_path / "old.npz"
    options = {"variant": "icans2", "lr": 0.5, "lipschitz": 1.0}
    qvopt.vqe(h2.spec.source, optimizer="icans", optimizer_options=options, seed=3,
              maxiter=2, checkpoint=ck, guard=False, tol=None)
    with np.load(ck, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["meta"]))
    del meta["config"]["guard"], meta["config"]["tol"]  # a round-2 configuration
    meta["optimizer_state"]["fields"].pop("curvature")  # a round-2 CANSState
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(ck, **arrays)
    resumed = qvopt.resume(ck, maxiter=4)
    whole = qvopt.vqe(h2.spec.source, optimizer="icans", optimizer_options=options, seed=3,
                      maxiter=4, guard=False, tol=None)
    assert resumed.nit == 4 and np.allclose(resumed.x, whole.x)


def test_a_resumed_run_says_what_the_earlier_final_energy_cost(h2, tmp_path):
    ck = tmp_path / "run.npz"
    first = qvopt.vqe(h2.spec.source, seed=5, maxiter=2, tol=None, checkpoint=ck)
    resumed = qvopt.resume(ck, maxiter=3)
    whole = qvopt.vqe(h2.spec.source, seed=5, maxiter=3, tol=None)
    # the trajectory and ledger continue bit for bit; the first run's final measurement is
    # reported beside them, not lost
    assert resumed.shots_used == whole.shots_used and np.allclose(resumed.x, whole.x)
    assert resumed.earlier_final_shots == first.final_shots > 0
    assert "made before resuming" in resumed.message
    again = qvopt.resume(ck, maxiter=4)
    assert again.earlier_final_shots == first.final_shots + resumed.final_shots
