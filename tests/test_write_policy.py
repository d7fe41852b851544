"""One write policy (qvopt.io): outputs only where the user said, never through a symlink,
never chosen by a name or path inside a handed-in file, never colliding with each other."""

from __future__ import annotations

import json

import numpy as np
import pytest

import qvopt
from qvopt.cli import main
from qvopt.errors import MoleculeFileError, RunFileError
from qvopt.io import safe_component, write_bytes_atomic


def test_writes_replace_a_planted_symlink_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.png"
    link.symlink_to(victim)
    write_bytes_atomic(link, b"new")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_bytes() == b"new"


def test_plot_never_writes_through_a_symlink(tmp_path, h2):
    result = tmp_path / "r.json"
    assert main(["run", "h2", "--maxiter", "2", "--seed", "1", "--no-progress",
                 "--out", str(result)]) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "plot.png"
    link.symlink_to(victim)
    assert main(["plot", str(result), "-o", str(link)]) == 0
    assert victim.read_text() == "precious" and not link.is_symlink()
    assert link.read_bytes().startswith(b"\x89PNG")
    assert main(["plot", str(result), "-o", str(tmp_path / "out.txt")]) == 2


@pytest.mark.parametrize("name", ["a b", "💧", "x" * 60, "h2.v2"])
def test_names_from_files_become_one_plain_path_component(name):
    part = safe_component(name)
    assert "/" not in part and "\\" not in part and not part.startswith(".")
    assert len(part) <= 64 and part.isascii()
    assert safe_component(name) == part  # stable: the same name is the same file


def test_a_molecule_name_cannot_hold_a_path_or_be_huge(tmp_path):
    text = (tmp_path / "ok.toml")
    base = ('basis = "sto-3g"\n[geometry]\nsymbols = ["H", "H"]\n'
            'coordinates = [[0, 0, 0], [0, 0, 0.74]]\n')
    for bad in ["../../ESCAPED", "a/b", "x" * 65, ".."]:
        text.write_text(f'name = {json.dumps(bad)}\n' + base)
        with pytest.raises(MoleculeFileError, match="field 'name'"):
            qvopt.chem.molecule.read_molecule_file(text)


def test_scan_files_of_an_odd_name_stay_inside_the_store_folder(tmp_path):
    molecule = tmp_path / "odd.toml"
    molecule.write_text('name = "H2 💧 test"\nbasis = "sto-3g"\n[geometry]\n'
                        'symbols = ["H", "H"]\ncoordinates = [[0, 0, 0], [0, 0, 0.74]]\n')
    out = tmp_path / "sub" / "s.json"
    assert main(["scan", str(molecule), "--bond", "0.7", "--shots", "exact", "--out", str(out),
                 "--no-progress", "--no-plot"]) == 0
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert all(tmp_path / "sub" in p.parents or p == molecule for p in written)


@pytest.mark.parametrize("key, value", [("result", "../escaped.json"),
                                        ("result", "/tmp/abs.json"),
                                        ("checkpoint", "a/../../x.npz")])
def test_a_run_file_cannot_write_outside_its_folder(tmp_path, key, value):
    run_file = tmp_path / "run.toml"
    run_file.write_text(f'molecule = "h2"\n[output]\n{key} = {json.dumps(value)}\n')
    with pytest.raises(RunFileError, match="inside the file's folder"):
        qvopt.RunConfig.from_toml(run_file)


def test_a_scan_file_cannot_put_its_store_outside_its_folder(tmp_path):
    scan_file = tmp_path / "scan.toml"
    scan_file.write_text('molecule = "h2"\nshots = "exact"\n[scan]\nbond = [0.7]\n'
                         'store = "../elsewhere.sqlite"\n')
    assert main(["scan", "--config", str(scan_file), "--no-progress"]) == 2
    assert not (tmp_path.parent / "elsewhere.sqlite").exists()


def test_outputs_that_collide_are_refused_before_anything_runs(tmp_path):
    same = tmp_path / "x.json"
    with pytest.raises(qvopt.InputError, match="different file"):
        qvopt.RunConfig("h2", checkpoint=str(same), result=str(same))
    molecule = tmp_path / "m.toml"
    molecule.write_text('basis = "sto-3g"\n[geometry]\nsymbols = ["H", "H"]\n'
                        'coordinates = [[0, 0, 0], [0, 0, 0.74]]\n')
    with pytest.raises(qvopt.InputError, match="different file"):
        qvopt.RunConfig(str(molecule), result=str(molecule))
    assert main(["run", "h2", "--out", str(same), "--checkpoint", str(same)]) == 2


def test_a_fresh_run_does_not_overwrite_another_runs_checkpoint(tmp_path):
    ck = tmp_path / "run.npz"
    qvopt.vqe("h2", maxiter=1, seed=1, checkpoint=ck)
    before = ck.read_bytes()
    with pytest.raises(qvopt.InputError, match="already exists"):
        qvopt.vqe("h2", maxiter=1, seed=2, checkpoint=ck)
    assert ck.read_bytes() == before
    assert main(["run", "h2", "--checkpoint", str(ck), "--no-progress"]) == 2
    resumed = qvopt.resume(ck, maxiter=2)  # continuing it is what the file is for
    assert resumed.nit == 2 and resumed.config["result"] is None


def test_an_edited_checkpoint_does_not_choose_the_result_path(tmp_path):
    ck = tmp_path / "run.npz"
    qvopt.vqe("h2", maxiter=1, seed=1, checkpoint=ck, tol=None)
    with np.load(ck, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["meta"]))
    target = tmp_path / "unrelated.txt"
    target.write_text("keep me")
    meta["config"]["result"] = str(target)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(ck, **arrays)
    assert main(["run", "--resume", str(ck), "--maxiter", "2", "--no-progress"]) == 0
    assert target.read_text() == "keep me"


def test_a_full_disk_keeps_the_finished_result_and_says_where(tmp_path, monkeypatch, capsys):
    import errno
    import os

    import qvopt.io

    out = tmp_path / "r.json"
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(fd, mode="r", *args, **kwargs):
        # the disk of out's folder is full; the temporary folder is not
        target = os.readlink(f"/proc/self/fd/{fd}")
        handle = real_fdopen(fd, mode, *args, **kwargs)
        return FullDisk(handle) if os.path.dirname(target) == str(out.parent) else handle

    monkeypatch.setattr(qvopt.io.os, "fdopen", fdopen)
    out.write_text("old")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "elsewhere"))
    (tmp_path / "elsewhere").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["run", "h2", "--maxiter", "1", "--seed", "0", "--no-progress",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "written to" in err
    assert out.read_text() == "old"  # the previous file is intact
    kept = list((tmp_path / "elsewhere").glob("qvopt-result-*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["nit"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_report_of_a_study_on_a_molecule_file_writes_plain_names_not_through_links(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mols").mkdir()
    (tmp_path / "mols" / "x.toml").write_text(
        'basis = "sto-3g"\n[geometry]\nsymbols = ["H", "H"]\n'
        'coordinates = [[0, 0, 0], [0, 0, 0.9]]\n')
    assert main(["compare", "mols/x.toml", "--optimizers", "adam", "--shots", "500",
                 "--seeds", "2", "--maxiter", "5", "--store", "st.sqlite",
                 "--no-progress"]) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "st_x_final_errors.png").symlink_to(victim)
    assert main(["report", "st.sqlite"]) == 0
    assert victim.read_text() == "precious"
    assert (tmp_path / "st_x_final_errors.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.glob("st_*.png")) == [
        "st_x_error_vs_shots.png", "st_x_final_errors.png", "st_x_shots_to_ca.png",
        "st_x_success_vs_budget.png"]


def test_a_store_is_never_written_through_a_planted_link(tmp_path, capsys):
    victim = tmp_path / "victim.sqlite"
    victim.write_bytes(b"")
    link = tmp_path / "study.sqlite"
    link.symlink_to(victim)
    assert main(["compare", "h2", "--optimizers", "adam", "--shots", "100", "--seeds", "1",
                 "--maxiter", "1", "--store", str(link), "--no-progress"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_bytes() == b""


def test_a_signal_as_the_temporary_file_appears_leaves_nothing_behind(tmp_path, monkeypatch):
    """The CLI turns SIGTERM into an exception, which may be raised right after the
    temporary file is created (before a name for it was returned, with mkstemp)."""
    import os

    from qvopt.io import write_bytes_atomic

    real_open = os.open

    def open_then_interrupted(*args, **kwargs):
        real_open(*args, **kwargs)
        raise KeyboardInterrupt

    target = tmp_path / "ck.npz"
    target.write_bytes(b"old")
    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bytes_atomic(target, b"new")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    assert target.read_bytes() == b"old"


def test_a_result_met_by_sigterm_while_written_is_saved_then_stops(tmp_path, monkeypatch):
    """A SIGTERM that arrives while a result JSON is being serialized is held back until the
    file is whole (the CLI turns it into an exception, which would otherwise discard it)."""
    import json
    import os
    import signal

    from qvopt import io

    class Stopped(Exception):
        pass

    def handler(signum, frame):
        raise Stopped

    real_dumps = json.dumps

    def dumps_meeting_a_signal(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real_dumps(*args, **kwargs)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        monkeypatch.setattr(io.json, "dumps", dumps_meeting_a_signal)
        target = tmp_path / "result.json"
        with pytest.raises(Stopped):
            io.write_json_atomic(target, {"fun": -1.137})
    finally:
        signal.signal(signal.SIGTERM, previous)
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"fun": -1.137}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_deferred_signals_come_back_terminate_first():
    """SIGINT then SIGTERM inside the block: SIGTERM's handler runs first (a run asked to
    terminate exits 143), and a raising SIGINT handler cannot swallow it."""
    import os
    import signal

    from qvopt.io import signals_deferred

    seen = []

    def terminated(signum, frame):
        seen.append(signum)
        raise SystemExit(143)

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        with pytest.raises(SystemExit), signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []  # held back while the block runs
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [signal.SIGTERM]
