"""Bad compare inputs fail up front with a QvoptError naming the input; nothing is written."""

from __future__ import annotations

import sys
import time

import pytest

import qvopt
from qvopt.bench import load_study_file, make_study
from qvopt.bench.study import parse_shot_list
from qvopt.cli import main
from qvopt.errors import BackendError, InputError, MissingExtraError, RunFileError

GRID = {"molecules": ["h2"], "optimizers": {"adam": {}}, "shots": [200], "seeds": 1,
        "maxiter": 2}


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_must_be_at_least_one(tmp_path, workers):
    path = tmp_path / "never.sqlite"
    with pytest.raises(InputError, match="workers"):
        qvopt.compare(**GRID, store=path, workers=workers)
    assert not path.exists()


@pytest.mark.parametrize("shots", [[100, 0], [100, -5], [True], ["100"], "100"])
def test_make_study_rejects_bad_shots(shots):
    with pytest.raises(InputError, match="shots"):
        make_study(["h2"], ["adam"], shots)


@pytest.mark.parametrize("key, value", [("seeds", 0), ("maxiter", 0), ("shot_budget", -1),
                                        ("study_seed", "x"), ("ansatz", "ucsd"),
                                        ("allocation", "greedy")])
def test_make_study_names_bad_settings(key, value):
    with pytest.raises(InputError, match=key if key != "ansatz" else "ansatz 'ucsd'"):
        make_study(**dict(GRID, **{key: value}))


def test_unknown_optimizer_option_is_an_input_error():
    with pytest.raises(InputError, match="lrr"):
        make_study(**dict(GRID, optimizers={"adam": {"lrr": 1}}))


def test_parse_shot_list():
    assert parse_shot_list("100, 1000,exact") == [100, 1000, None]
    for text in ("100,0", "100,abc", "100,,200", "-3"):
        with pytest.raises(InputError, match="shots"):
            parse_shot_list(text)


@pytest.mark.parametrize("shots", ["100,0", "100,abc"])
def test_cli_bad_shots_is_one_line_exit_2(tmp_path, capsys, shots):
    store = tmp_path / "never.sqlite"
    assert main(["compare", "h2", "--optimizers", "adam", "--shots", shots,
                 "--store", str(store), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "shots" in err and "Traceback" not in err
    assert not store.exists()


def write_study(tmp_path, shots="[500]", adam="lr = 0.1"):
    path = tmp_path / "study.toml"
    path.write_text(f'molecules = ["h2"]\nshots = {shots}\nseeds = 1\n'
                    f"[optimizers.adam]\n{adam}\n")
    return path


def test_study_file_with_zero_shots_names_file_and_shots(tmp_path):
    path = write_study(tmp_path, shots="[100, 0]")
    with pytest.raises(RunFileError, match="shots") as info:
        load_study_file(path)
    assert "study.toml" in str(info.value)


def test_study_file_unknown_option_names_file_and_option(tmp_path):
    path = write_study(tmp_path, adam="lrr = 0.1")
    with pytest.raises(RunFileError, match="lrr") as info:
        load_study_file(path)
    assert "study.toml" in str(info.value)


def test_study_file_bad_option_type_is_refused_before_running(tmp_path):
    path = write_study(tmp_path, adam='lr = "abc"')
    try:
        load_study_file(path)
    except InputError as exc:
        assert "lr" in str(exc)
    else:
        pytest.xfail("needs optimizer option validation (qvopt/optimizers/registry.py)")


def test_bad_executor_string_is_an_input_error(tmp_path):
    pytest.importorskip("distributed")
    for executor in ("spark://x:1", "dask://nohostport", "dask://:8786"):
        with pytest.raises(InputError, match="executor"):
            qvopt.compare(**GRID, store=tmp_path / "never.sqlite", executor=executor)
    assert not (tmp_path / "never.sqlite").exists()


def test_unreachable_dask_scheduler_fails_fast(tmp_path):
    pytest.importorskip("distributed")
    start = time.monotonic()
    with pytest.raises(BackendError, match="127.0.0.1:1"):
        qvopt.compare(**GRID, store=tmp_path / "s.sqlite", executor="dask://127.0.0.1:1")
    assert time.monotonic() - start < 15
    assert not (tmp_path / "s.sqlite").exists()  # nothing created when it cannot connect


def test_missing_dask_is_a_missing_extra_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    with pytest.raises(MissingExtraError, match=r"qvopt\[dask\]"):
        qvopt.compare(**GRID, store=tmp_path / "never.sqlite", executor="dask-local")
    assert not (tmp_path / "never.sqlite").exists()
