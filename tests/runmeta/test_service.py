"""Tests of RunSessionService: the run lifecycle on real folders, on both backends.

Each test that uses the ``backend`` fixture runs on an SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta import (
    ArtifactWriteError,
    DatabaseWriteError,
    FixedClock,
    ForeignMetaError,
    InputNotFoundError,
    InvalidProjectPathError,
    ProjectNotFoundError,
    RunArtifactStore,
    RunContext,
    RunDirExistsError,
    RunDirNotFoundError,
    RunNotFoundError,
    RunRecord,
    RunSessionService,
    RunTerminated,
)
from monocycle_nash.runmeta.edits import root_tag
from monocycle_nash.runmeta.errors import RunFilesLeftError, RunStillRunningError
from monocycle_nash.runmeta.models import RUN_FIELDS
from monocycle_nash.runmeta.process import ProcessIdentity
from monocycle_nash.runmeta.repositories import RunsRepository
from tests.runmeta.backend_support import Backend

T0 = "2026-02-14T19:30:12+09:00"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
PROCESS = ProcessIdentity("testhost", 4242, "boot:77", "2026-02-14T19:00:00+09:00")


def _open(backend: Backend) -> RunSessionService:
    return backend.open_service(
        clock=FixedClock(T0, 1),
        git_probe=lambda: COMMIT,
        process_identity=lambda: PROCESS,
    )


@pytest.fixture
def service(backend: Backend) -> Iterator[RunSessionService]:
    """A service on a fresh project root, with pinned clock, commit and process."""
    with _open(backend) as opened:
        yield opened


def _meta(service: RunSessionService, run_id: int) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(service.store.meta_path(run_id).read_text(encoding="utf-8"))
    return meta


_PROCESS_COLUMNS = {"host": "host", "pid": "pid", "process_start": "start_time"}


def _assert_meta_matches_row(service: RunSessionService, run_id: int) -> dict[str, Any]:
    """Every runs column (and project_path) in meta.json equals the database row.

    The process columns are meta.json's ``process``, the reason its ``reason``; a run
    with such a meta.json has its own folder.
    """
    raw = service.connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    meta = _meta(service, run_id)
    for column in raw.keys():  # noqa: SIM118 - sqlite3.Row has keys(), not iteration by key
        if column in _PROCESS_COLUMNS:
            assert meta["process"][_PROCESS_COLUMNS[column]] == raw[column], column
        elif column == "reason":
            assert raw[column] is None or meta["reason"] == raw[column], column
        elif column == "folder":
            assert raw[column] is None
        else:
            assert meta[column] == raw[column], column
    record = service.runs.get(run_id)
    assert {name: meta[name] for name in RUN_FIELDS} == record.to_dict()
    return meta


def test_open_uses_the_default_layout(tmp_path: Path) -> None:
    """open(root) puts the database in .runmeta/ and run folders in result/."""
    with RunSessionService.open(tmp_path) as opened:
        ctx = opened.start("cmd")
        opened.finish_success(ctx)
    assert (tmp_path / ".runmeta" / "run_history.db").is_file()
    assert ctx.run_dir == tmp_path / "result" / "1"
    assert (ctx.run_dir / "meta.json").is_file()


def test_start_records_running_row_folder_and_meta(
    service: RunSessionService, tmp_path: Path
) -> None:
    """start() inserts a running row, creates the folder, freezes input, writes meta.json."""
    source = tmp_path / "game.toml"
    source.write_text('labels = ["A"]\n')
    ctx = service.start("uv run python src/main.py", note="baseline", input_path=source)
    assert (ctx.run_id, ctx.run_dir) == (1, tmp_path / "result" / "1")
    assert (ctx.input_dir / "game.toml").is_file()
    assert ctx.output_dir.is_dir() and ctx.logs_dir.is_dir()
    record = service.runs.get(1)
    assert record == RunRecord(
        1, T0, T0, None, "running", "uv run python src/main.py", COMMIT, "baseline", None, T0
    )
    meta = _assert_meta_matches_row(service, 1)
    assert meta["schema_version"] == 1
    assert meta["input"]["stored_file"] == "input/game.toml"
    assert meta["input"]["source_path"] == str(source)
    assert meta["process"] == PROCESS.to_dict()
    assert (meta["reason"], meta["warnings"]) == (None, [])


@pytest.mark.parametrize(
    ("finish", "status", "reason"),
    [
        pytest.param("finish_success", "success", None, id="success"),
        pytest.param("finish_fail", "fail", "solver diverged", id="fail"),
        pytest.param("finish_killed", "killed", "interrupted", id="killed"),
    ],
)
def test_finish_updates_row_then_meta_field_by_field(
    service: RunSessionService, finish: str, status: str, reason: str | None
) -> None:
    """finish_* sets status and times; meta.json equals the row and carries the reason."""
    ctx = service.start("cmd", merged_input="x = 1\n")
    ctx.extra["solver"] = "lp"
    ctx.extra["status"] = "ignored: a reserved name"
    args = () if reason is None else (reason,)
    record = getattr(service, finish)(ctx, *args)
    assert (record.status, record.started_at, record.ended_at) == (
        status,
        T0,
        "2026-02-14T19:30:13+09:00",
    )
    assert record.updated_at == record.ended_at
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert meta["status"] == status
    assert meta["reason"] == reason
    assert meta["solver"] == "lp"
    assert meta["input"]["split_config_applied"] is True


def test_unknown_project_records_nothing(service: RunSessionService) -> None:
    """A run naming an unregistered project is refused before the INSERT."""
    with pytest.raises(ProjectNotFoundError):
        service.start("cmd", project_id="nope")
    assert service.runs.count_runs() == 0
    assert not service.store.result_root.exists()


def test_missing_input_after_insert_is_recorded_as_fail(
    service: RunSessionService, tmp_path: Path
) -> None:
    """A start that fails after the INSERT leaves a 'fail' run with the reason, and raises."""
    with pytest.raises(InputNotFoundError):
        service.start("cmd", input_path=tmp_path / "missing.toml")
    record = service.runs.get(1)
    assert record.status == "fail"
    assert record.ended_at is not None
    meta = _assert_meta_matches_row(service, 1)
    assert "missing.toml" in meta["reason"]
    assert "missing.toml" in service.store.log_path(1).read_text()


def test_existing_run_folder_is_recorded_as_fail_and_left_alone(
    service: RunSessionService,
) -> None:
    """A run folder left by an older database is never written into; the run is 'fail'."""
    stale = service.store.run_dir(1)
    (stale / "output").mkdir(parents=True)
    (stale / "meta.json").write_text('{"run_id": 1, "note": "an older run"}')
    with pytest.raises(RunDirExistsError):
        service.start("cmd")
    assert service.runs.get(1).status == "fail"
    assert json.loads((stale / "meta.json").read_text()) == {"run_id": 1, "note": "an older run"}
    next_ctx = service.start("cmd")
    assert next_ctx.run_id == 2


def test_record_success_tees_output(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """record(): normal exit is success; printed text is on the console and in logs/."""
    with service.record("cmd") as ctx:
        print("to stdout")
        print("to stderr", file=sys.stderr)
    assert service.runs.get(ctx.run_id).status == "success"
    assert (ctx.logs_dir / "stdout.log").read_text() == "to stdout\n"
    assert (ctx.logs_dir / "stderr.log").read_text() == "to stderr\n"
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("to stdout\n", "to stderr\n")
    print("after")
    assert (ctx.logs_dir / "stdout.log").read_text() == "to stdout\n"
    _assert_meta_matches_row(service, ctx.run_id)


def test_record_exception_is_fail_with_traceback(service: RunSessionService) -> None:
    """record(): an exception marks the run fail, logs the traceback and propagates."""
    with pytest.raises(ZeroDivisionError), service.record("cmd") as ctx:
        print("working")
        _ = 1 / 0
    assert service.runs.get(ctx.run_id).status == "fail"
    log = (ctx.logs_dir / "stderr.log").read_text()
    assert "Traceback" in log and "ZeroDivisionError" in log
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert meta["reason"] == "ZeroDivisionError: division by zero"
    assert (ctx.logs_dir / "stdout.log").read_text() == "working\n"


def test_record_keyboard_interrupt_is_killed(service: RunSessionService) -> None:
    """record(): Ctrl-C marks the run killed and propagates."""
    with pytest.raises(KeyboardInterrupt), service.record("cmd") as ctx:
        raise KeyboardInterrupt
    assert service.runs.get(ctx.run_id).status == "killed"
    assert "KeyboardInterrupt" in _assert_meta_matches_row(service, ctx.run_id)["reason"]


def test_record_sigterm_is_killed_and_handler_restored(service: RunSessionService) -> None:
    """record(): SIGTERM inside the block marks the run killed; the old handler returns."""
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RunTerminated), service.record("cmd") as ctx:
        os.kill(os.getpid(), signal.SIGTERM)
    assert service.runs.get(ctx.run_id).status == "killed"
    assert "SIGTERM" in _meta(service, ctx.run_id)["reason"]
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    ("code", "status"),
    [
        pytest.param(0, "success", id="exit-0"),
        pytest.param(None, "success", id="exit-none"),
        pytest.param(3, "fail", id="exit-3"),
    ],
)
def test_record_system_exit(service: RunSessionService, code: int | None, status: str) -> None:
    """record(): sys.exit(0) is success, a non-zero exit is fail; SystemExit propagates."""
    with pytest.raises(SystemExit), service.record("cmd") as ctx:
        sys.exit(code)
    assert service.runs.get(ctx.run_id).status == status


def test_project_run_gets_a_symlink(service: RunSessionService, tmp_path: Path) -> None:
    """A run started with a project is linked from <project>/experiment_refs/<root tag>/<id>."""
    project = tmp_path / "analysis"
    project.mkdir()
    service.edits.add_project("main", project)
    ctx = service.start("cmd", project_id="main")
    service.finish_success(ctx)
    link = project / "experiment_refs" / root_tag(service.store.result_root) / str(ctx.run_id)
    assert link.is_symlink() and link.resolve() == ctx.run_dir.resolve()
    assert ctx.link_kind == "symlink"
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert meta["project_path"] == str(project.resolve())
    assert service.runs.list_runs(project_id="main")[0].run_id == ctx.run_id


def test_project_text_reference_is_refreshed_at_finish(
    service: RunSessionService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where symlinks fail, <id>.txt is written at start and its status updated at the end."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "symlinks not allowed")

    monkeypatch.setattr(os, "symlink", refuse)
    project = tmp_path / "analysis"
    project.mkdir()
    service.edits.add_project("main", project)
    ctx = service.start("cmd", project_id="main")
    text = project / "experiment_refs" / root_tag(service.store.result_root) / f"{ctx.run_id}.txt"
    assert text.read_text().splitlines() == [
        str(ctx.run_dir),
        f"created_at: {ctx.created_at}",
        "status: running",
    ]
    service.finish_fail(ctx, "bad")
    assert text.read_text().splitlines()[-1] == "status: fail"


def test_missing_project_folder_is_a_warning_not_a_failure(
    service: RunSessionService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project whose folder is gone gives a warning in meta.json and stderr.log only."""
    service.edits.add_project("gone", tmp_path / "gone")
    ctx = service.start("cmd", project_id="gone")
    record = service.finish_success(ctx)
    assert record.status == "success"
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert len(meta["warnings"]) == 1 and "does not exist" in meta["warnings"][0]
    assert "does not exist" in (ctx.logs_dir / "stderr.log").read_text()
    assert "does not exist" in capsys.readouterr().err


def test_update_run_rewrites_meta_and_moves_links(
    service: RunSessionService, tmp_path: Path
) -> None:
    """update_run changes the row, meta.json (keeping extras) and project links together."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    service.edits.add_project("first", first)
    service.edits.add_project("second", second)
    ctx = service.start("cmd", project_id="first")
    ctx.extra["outputs"] = ["equilibrium.json"]
    service.finish_success(ctx)
    record = service.edits.update_run(ctx.run_id, note="checked", project_id="second")
    assert (record.note, record.project_id) == ("checked", "second")
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert meta["outputs"] == ["equilibrium.json"]
    tag = root_tag(service.store.result_root)
    assert not (first / "experiment_refs" / tag / "1").is_symlink()
    assert (second / "experiment_refs" / tag / "1").is_symlink()
    service.edits.update_run(
        ctx.run_id, status="killed", reason="marked by hand", clear_project=True
    )
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert (meta["status"], meta["reason"]) == ("killed", "marked by hand")
    assert meta["project_id"] is None
    assert not (second / "experiment_refs" / tag / "1").exists()


def test_update_run_of_unknown_id(service: RunSessionService) -> None:
    """update_run of a missing run raises RunNotFoundError."""
    with pytest.raises(RunNotFoundError):
        service.edits.update_run(5, note="x")


def test_update_run_without_folder_updates_the_row(service: RunSessionService) -> None:
    """A run whose folder was removed can still be corrected in the database."""
    ctx = service.start("cmd")
    service.store.delete_run_dir(ctx.run_id)
    assert service.edits.update_run(ctx.run_id, status="fail").status == "fail"
    assert not ctx.run_dir.exists()


def test_sync_meta_repairs_and_keeps_extra_fields(service: RunSessionService) -> None:
    """sync_meta rewrites row fields from the database and keeps the rest."""
    ctx = service.start("cmd")
    meta = _meta(service, ctx.run_id)
    meta.update(status="success", note="edited by hand", custom=[1, 2])
    service.store.write_meta(ctx.run_id, meta)
    service.edits.sync_meta(ctx.run_id)
    synced = _assert_meta_matches_row(service, ctx.run_id)
    assert (synced["status"], synced["custom"]) == ("running", [1, 2])
    service.store.meta_path(ctx.run_id).write_text("{ truncated")
    service.edits.sync_meta(ctx.run_id)
    _assert_meta_matches_row(service, ctx.run_id)
    service.store.delete_run_dir(ctx.run_id)
    with pytest.raises(RunDirNotFoundError):
        service.edits.sync_meta(ctx.run_id)


def test_delete_run_with_and_without_files(service: RunSessionService, tmp_path: Path) -> None:
    """delete_run removes the row (the kept folder keeps its link); with_files the files too."""
    project = tmp_path / "analysis"
    project.mkdir()
    service.edits.add_project("p", project)
    kept = service.finish_success(service.start("cmd", project_id="p"))
    gone = service.finish_success(service.start("cmd", project_id="p"))
    assert service.edits.delete_run(kept.run_id).removed == ()
    deleted = service.edits.delete_run(gone.run_id, with_files=True)
    assert deleted.record == gone
    assert deleted.removed == (f"the link in {project}", str(service.store.run_dir(gone.run_id)))
    assert service.runs.count_runs() == 0
    assert service.store.run_dir(kept.run_id).is_dir()
    refs = project / "experiment_refs" / root_tag(service.store.result_root)
    assert (refs / str(kept.run_id)).is_symlink()
    assert not service.store.run_dir(gone.run_id).exists()
    assert not (refs / str(gone.run_id)).exists()
    with pytest.raises(RunNotFoundError):
        service.edits.delete_run(gone.run_id)


def test_delete_run_of_a_running_run_needs_force(service: RunSessionService) -> None:
    """A running run is kept unless force is given, as with runmeta delete-run."""
    ctx = service.start("still going")
    with pytest.raises(RunStillRunningError):
        service.edits.delete_run(ctx.run_id, with_files=True)
    assert service.store.run_dir(ctx.run_id).is_dir()
    assert (
        service.edits.delete_run(ctx.run_id, with_files=True, force=True).record.status == "running"
    )
    assert service.runs.find_by_id(ctx.run_id) is None


def test_project_changes_reach_meta(service: RunSessionService, tmp_path: Path) -> None:
    """Moving or deleting a project rewrites the meta.json of its runs."""
    (tmp_path / "a").mkdir()
    service.edits.add_project("p", tmp_path / "a")
    ctx = service.start("cmd", project_id="p")
    service.finish_success(ctx)
    service.edits.update_project("p", project_path=tmp_path / "b")
    assert _assert_meta_matches_row(service, ctx.run_id)["project_path"] == str(tmp_path / "b")
    assert service.edits.delete_project("p") == [ctx.run_id]
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert (meta["project_id"], meta["project_path"]) == (None, None)


def test_database_failure_at_finish_is_reported_with_repair(
    service: RunSessionService, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the row cannot be updated, meta.json says so and the error names update-run."""
    ctx = service.start("cmd")

    def broken_finish(*args: object, **kwargs: object) -> RunRecord:
        raise backend.driver_error("disk I/O error")

    monkeypatch.setattr(RunsRepository, "finish_running", broken_finish)
    with pytest.raises(DatabaseWriteError, match="update-run --run-id 1 --status success"):
        service.finish_success(ctx)
    meta = _meta(service, ctx.run_id)
    assert meta["status"] == "success"
    assert "disk I/O error" in meta["warnings"][0]
    assert "disk I/O error" in service.store.log_path(ctx.run_id).read_text()


def test_meta_write_failure_at_finish_records_fail(
    service: RunSessionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose final meta.json cannot be written ends as fail, not success."""
    ctx = service.start("cmd")

    def disk_full(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ArtifactWriteError, match="No space left"):
        service.finish_success(ctx)
    monkeypatch.undo()
    assert service.runs.get(ctx.run_id).status == "fail"
    assert service.store.leftover_temp_files(ctx.run_id) == []


def test_context_paths(service: RunSessionService) -> None:
    """The context exposes the run's folders."""
    ctx: RunContext = service.start("cmd")
    assert ctx.input_dir == ctx.run_dir / "input"
    assert ctx.output_dir == ctx.run_dir / "output"
    assert ctx.logs_dir == ctx.run_dir / "logs"


def test_text_links_follow_the_run_and_its_project(
    service: RunSessionService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without symlinks, <id>.txt is made, refreshed, moved with the project and deleted."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(1314, "A required privilege is not held by the client")

    monkeypatch.setattr(os, "symlink", refuse)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    service.edits.add_project("p", tmp_path / "a")
    ctx = service.start("cmd", project_id="p")
    tag = root_tag(service.store.result_root)
    old_text = tmp_path / "a" / "experiment_refs" / tag / f"{ctx.run_id}.txt"
    assert old_text.read_text().splitlines()[-1] == "status: running"
    service.finish_success(ctx)
    assert old_text.read_text().splitlines()[-1] == "status: success"
    service.edits.update_run(ctx.run_id, status="fail")
    assert old_text.read_text().splitlines()[-1] == "status: fail"
    service.edits.update_project("p", project_path=tmp_path / "b")
    new_text = tmp_path / "b" / "experiment_refs" / tag / f"{ctx.run_id}.txt"
    assert not old_text.exists()
    assert new_text.read_text().splitlines() == [
        str(service.store.run_dir(ctx.run_id).absolute()),
        f"created_at: {ctx.created_at}",
        "status: fail",
    ]
    _assert_meta_matches_row(service, ctx.run_id)
    service.edits.delete_run(ctx.run_id, with_files=True)
    assert not new_text.exists()


def test_update_run_keeps_an_unreadable_meta_aside(service: RunSessionService) -> None:
    """An unreadable meta.json is not overwritten by update_run: it is kept beside the new one."""
    ctx = service.start("cmd")
    service.finish_success(ctx)
    service.store.meta_path(ctx.run_id).write_bytes(b'{"run_id": 1, "sta')
    service.edits.update_run(ctx.run_id, note="checked")
    kept = ctx.run_dir / "meta.json.unreadable"
    assert kept.read_bytes() == b'{"run_id": 1, "sta'
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert meta["warnings"] == ["the unreadable meta.json was kept as meta.json.unreadable"]
    service.store.meta_path(ctx.run_id).write_bytes(b"[]")
    assert service.edits.sync_meta(ctx.run_id) == ctx.run_dir / "meta.json.unreadable.2"
    assert kept.read_bytes() == b'{"run_id": 1, "sta'


def test_edits_never_overwrite_another_runs_meta(
    service: RunSessionService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder holding another run's meta.json (older database) is left alone, with a warning."""
    (tmp_path / "a").mkdir()
    service.edits.add_project("p", tmp_path / "a")
    ctx = service.start("cmd", project_id="p")
    service.finish_success(ctx)
    path = service.store.meta_path(ctx.run_id)
    foreign = {**_meta(service, ctx.run_id), "created_at": "2020-01-01T00:00:00+09:00"}
    path.write_text(json.dumps(foreign), encoding="utf-8")
    before = path.read_bytes()
    capsys.readouterr()
    assert service.edits.update_run(ctx.run_id, note="mine").note == "mine"
    assert path.read_bytes() == before
    err = capsys.readouterr().err
    assert err.startswith(f"runmeta: warning: run {ctx.run_id}: meta.json not updated: {path}")
    assert "describes another run (created_at '2020-01-01T00:00:00+09:00'); left alone" in err
    assert service.edits.delete_project("p") == [ctx.run_id]
    assert path.read_bytes() == before
    with pytest.raises(ForeignMetaError):
        service.edits.sync_meta(ctx.run_id)


def test_delete_run_with_files_keeps_another_runs_folder(service: RunSessionService) -> None:
    """--with-files never removes a folder whose meta.json is another run's; the row stays."""
    ctx = service.start("cmd")
    service.finish_success(ctx)
    path = service.store.meta_path(ctx.run_id)
    foreign = {**_meta(service, ctx.run_id), "created_at": "2020-01-01T00:00:00+09:00"}
    path.write_text(json.dumps(foreign), encoding="utf-8")
    with pytest.raises(RunFilesLeftError, match="describes another run") as caught:
        service.edits.delete_run(ctx.run_id, with_files=True)
    assert caught.value.left == [f"the run folder {ctx.run_dir}"]
    assert path.is_file()
    assert service.runs.get(ctx.run_id).status == "success"
    assert service.edits.delete_run(ctx.run_id).record.run_id == ctx.run_id  # the row alone: fine
    assert path.is_file()


def test_ensure_project_registers_once_and_checks_the_path(
    service: RunSessionService, tmp_path: Path
) -> None:
    """ensure_project registers a new project, returns it again, refuses another path."""
    first = service.ensure_project("p", tmp_path / "analysis", "note")
    assert first.project_path == str(tmp_path / "analysis")
    assert service.ensure_project("p", tmp_path / "analysis") == first
    assert service.ensure_project("p") == first
    assert service.projects.list() == [first]
    with pytest.raises(InvalidProjectPathError, match="registered with path"):
        service.ensure_project("p", tmp_path / "elsewhere")
    with pytest.raises(ProjectNotFoundError):
        service.ensure_project("unknown")


def test_bug_in_start_keeps_its_traceback_in_the_log(
    service: RunSessionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error after the INSERT: fail, the traceback in logs/stderr.log."""

    def broken(*args: object) -> None:
        raise RuntimeError("snapshot bug")

    monkeypatch.setattr(RunArtifactStore, "save_input_snapshot", broken)
    with pytest.raises(RuntimeError, match="snapshot bug") as caught:
        service.start("bench", input_path=__file__)
    assert caught.value.failed_run_id == 1  # type: ignore[attr-defined]
    assert service.runs.get(1).status == "fail"
    log = service.store.log_path(1).read_text("utf-8")
    assert log.startswith("runmeta: run 1 fail: start failed: RuntimeError: snapshot bug\n")
    assert "Traceback (most recent call last)" in log
    assert "in broken" in log


def test_bug_in_start_without_a_folder_prints_its_traceback(
    service: RunSessionService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No run folder to log into: the traceback goes to stderr behind a clear line."""

    def broken(*args: object) -> Path:
        raise RuntimeError("mkdir bug")

    monkeypatch.setattr(RunArtifactStore, "create_run_dir", broken)
    with pytest.raises(RuntimeError, match="mkdir bug"):
        service.start("bench")
    err = capsys.readouterr().err
    assert err.startswith(
        "runmeta: run 1 fail: start failed: RuntimeError: mkdir bug (no run folder; "
        "traceback follows)\nTraceback (most recent call last)"
    )
    assert service.runs.get(1).status == "fail"


def test_finish_keeps_what_others_wrote_into_meta_and_the_newest_row(
    service: RunSessionService,
) -> None:
    """finish merges under the run's lock: fields others added stay, the row's fields are fresh."""
    ctx = service.start("cmd")
    service.edits.update_run(ctx.run_id, note="edited while running")
    meta = _meta(service, ctx.run_id)
    meta["reviewer"] = "someone"
    meta["warnings"].append("added by another writer")
    service.store.write_meta(ctx.run_id, meta)
    ctx.extra["result"] = {"value": 1}
    service.finish_fail(ctx, "diverged")
    final = _assert_meta_matches_row(service, ctx.run_id)
    assert final["note"] == "edited while running"
    assert (final["reviewer"], final["result"], final["reason"]) == (
        "someone",
        {"value": 1},
        "diverged",
    )
    assert final["warnings"] == ["added by another writer"]
    assert service.runs.bookkeeping(ctx.run_id).reason == "diverged"


def test_a_start_that_fails_before_its_folder_records_why_in_the_row(
    service: RunSessionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No folder was made: the row says fail, why, and that the run has no folder."""

    def unwritable(*args: object) -> Path:
        raise ArtifactWriteError("result/1", OSError(errno.EACCES, "Permission denied"))

    monkeypatch.setattr(RunArtifactStore, "create_run_dir", unwritable)
    with pytest.raises(ArtifactWriteError):
        service.start("cmd")
    books = service.runs.bookkeeping(1)
    assert service.runs.get(1).status == "fail"
    assert books.reason == "start failed: cannot write result/1: Permission denied"
    assert books.folder == "none"
    assert books.same_process(PROCESS)


def test_a_note_edited_while_the_run_starts_reaches_its_first_meta(
    service: RunSessionService, backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """update-run between the INSERT and the first meta.json: that meta.json has the new note."""
    source = tmp_path / "game.toml"
    source.write_text("x = 1\n")
    snapshot = RunArtifactStore.save_input_snapshot

    def edited_meanwhile(store: RunArtifactStore, *args: Any) -> Any:
        with _open(backend) as other:  # another process's update-run, in effect
            other.edits.update_run(1, note="edited meanwhile")
        return snapshot(store, *args)

    monkeypatch.setattr(RunArtifactStore, "save_input_snapshot", edited_meanwhile)
    ctx = service.start("cmd", note="first", input_path=source)
    meta = _assert_meta_matches_row(service, ctx.run_id)
    assert meta["note"] == "edited meanwhile"
    assert meta["input"]["stored_file"] == "input/game.toml"
    assert meta["process"] == PROCESS.to_dict()
