"""In-process tests of the main job's outcomes that a real process cannot easily provoke."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.app import main, main_job
from monocycle_nash.runmeta import (
    DatabaseLockedError,
    ProjectsRepository,
    RunArtifactStore,
    RunMetaError,
)
from tests.app.db_rows import row

RPS = 'labels = ["R", "P", "S"]\nmatrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n'


def _raise(error: BaseException) -> Any:
    def solve(*args: object, **kwargs: object) -> None:
        raise error

    return solve


def test_unexpected_exception_is_a_fail_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug in the solve: 'fail', exit 1, one console line, traceback in logs/stderr.log."""
    monkeypatch.setattr(main_job, "solve_game", _raise(RuntimeError("boom\nsecond line")))
    assert main(["--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("monocycle-nash: error: unexpected RuntimeError: boom; run 1 ")
    assert "traceback in" in line
    recorded = row(tmp_path)
    assert (recorded["status"], recorded["command"]) == (
        "fail",
        f"monocycle-nash --root {tmp_path}",
    )
    log = (tmp_path / "result" / "1" / "logs" / "stderr.log").read_text("utf-8")
    assert "Traceback" in log
    assert "RuntimeError: boom" in log
    meta = json.loads((tmp_path / "result" / "1" / "meta.json").read_text("utf-8"))
    assert meta["reason"].startswith("RuntimeError: boom")


def test_keyboard_interrupt_is_killed_with_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C during the solve: 'killed', exit 130, one console line."""
    monkeypatch.setattr(main_job, "solve_game", _raise(KeyboardInterrupt()))
    assert main(["--root", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "monocycle-nash: interrupted; run 1 recorded as killed\n"
    assert row(tmp_path)["status"] == "killed"


def test_a_stored_merged_input_runs_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run's merged_input.toml is a run config: a second run solves it and stores all three."""
    root = tmp_path / "root"
    assert main(["--root", str(root)]) == 0
    merged = root / "result" / "1" / "input" / "merged_input.toml"
    assert main([str(merged), "--note", "again"]) == 0
    capsys.readouterr()
    recorded = row(root, 2)
    assert (recorded["status"], recorded["note"]) == ("success", "again")
    stored = root / "result" / "2" / "input"
    assert sorted(path.name for path in stored.iterdir()) == [
        "input-merged_input.toml",
        "merged_input.toml",
        "rock_paper_scissors.toml",  # the game file, which the merged input names
    ]
    assert (stored / "input-merged_input.toml").read_bytes() == merged.read_bytes()


def test_name_clash_between_inputs_is_prefixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Input files with the same name from different folders are all kept."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.toml").write_text(RPS, encoding="utf-8")
    (tmp_path / "x.toml").write_text('game = "a/x.toml"\n', encoding="utf-8")
    assert main([str(tmp_path / "x.toml"), "--root", str(tmp_path)]) == 0
    capsys.readouterr()
    stored = tmp_path / "result" / "1" / "input"
    assert (stored / "x.toml").read_text("utf-8") == 'game = "a/x.toml"\n'
    assert (stored / "game-x.toml").read_text("utf-8") == RPS
    meta = json.loads((tmp_path / "result" / "1" / "meta.json").read_text("utf-8"))
    assert [entry["stored_file"] for entry in meta["input"]["files"]] == [
        "input/x.toml",
        "input/game-x.toml",
    ]


def test_registered_project_with_another_path_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Settings naming a registered project with a different path fail the run."""
    (tmp_path / "g.toml").write_text(RPS, encoding="utf-8")
    config = tmp_path / "run.toml"
    for path in ("one", "two"):
        (tmp_path / path).mkdir()
        config.write_text(
            f'game = "g.toml"\n[analysis_project]\nproject_id = "p"\nproject_path = "{path}"\n',
            encoding="utf-8",
        )
        code = main([str(config), "--root", str(tmp_path)])
    assert code == 1
    assert "registered with path" in capsys.readouterr().err
    assert (row(tmp_path, 1)["project_id"], row(tmp_path, 2)["status"]) == ("p", "fail")
    assert row(tmp_path, 2)["project_id"] is None


def test_command_line_project_must_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--project-id of an unregistered project fails the run with a hint."""
    assert main(["--project-id", "nope", "--root", str(tmp_path)]) == 1
    assert "runmeta add-project --project-id nope" in capsys.readouterr().err
    assert row(tmp_path)["status"] == "fail"


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(RunMetaError("disk says no"), id="runmeta"),
        pytest.param(DatabaseLockedError("history.db", 30.0), id="locked"),
    ],
)
def test_project_registration_failure_is_a_recorded_fail(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
) -> None:
    """A runmeta or SQLite error while registering: one line, exit 1, run recorded as fail."""
    monkeypatch.setattr(ProjectsRepository, "add", _raise(error))
    (tmp_path / "g.toml").write_text(RPS, encoding="utf-8")
    (tmp_path / "run.toml").write_text(
        'game = "g.toml"\n[analysis_project]\nproject_id = "p"\nproject_path = "."\n',
        encoding="utf-8",
    )
    assert main([str(tmp_path / "run.toml"), "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == f"monocycle-nash: error: cannot register project 'p': {error}\n"
    assert (row(tmp_path)["status"], row(tmp_path)["project_id"]) == ("fail", None)


def test_unexpected_failure_inside_start_keeps_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug inside start(): the run is a fail whose stderr.log holds the traceback."""
    monkeypatch.setattr(
        RunArtifactStore, "save_input_snapshot", _raise(RuntimeError("snapshot bug"))
    )
    assert main(["--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    log = tmp_path / "result" / "1" / "logs" / "stderr.log"
    assert err == [
        "monocycle-nash: error: unexpected RuntimeError: snapshot bug; run 1 recorded as "
        f"fail; traceback in {log}"
    ]
    text = log.read_text("utf-8")
    assert "runmeta: run 1 fail: start failed: RuntimeError: snapshot bug" in text
    assert "Traceback (most recent call last)" in text
    assert text.rstrip().endswith("RuntimeError: snapshot bug")
    assert row(tmp_path)["status"] == "fail"
