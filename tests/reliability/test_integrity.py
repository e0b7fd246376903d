"""No repair destroys a true outcome, no delete lies, no run stays ``running`` for ever.

Real processes, real locks held by another process, real signals: the end of a run
that the database missed, deletion on a locked database, folders a run did not create,
a manual status against a live run, concurrent meta.json writers, and random kills.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta import RunDirExistsError, RunSessionService, RunTerminated
from monocycle_nash.runmeta.artifact_store import meta_mismatches
from monocycle_nash.runmeta.clock import JST
from monocycle_nash.runmeta.db import SQLiteConnectionFactory
from monocycle_nash.runmeta.repositories import RunsRepository
from tests.reliability.helpers import HERE, db_path, held_run, read_meta, row, runmeta, runmeta_json

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="process start times come from /proc"
)

_WORKER = HERE / "worker_lifecycle.py"
_SHORT = 0.2  # seconds of busy timeout: a held lock outlasts it

_HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
conn.close()
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@contextmanager
def _locked_by_another_process(database: Path) -> Iterator[None]:
    """Another process holds ``BEGIN EXCLUSIVE`` on ``database`` until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "locked\n", holder.communicate()[1]
        yield
    finally:
        holder.communicate(input="", timeout=30)  # end of its stdin: it rolls back and ends


def _start(*args: str, stdin: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(_WORKER), *args],
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _end(process: subprocess.Popen[str]) -> None:
    """Kill ``process`` if it still runs (a failed test), and close its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def _wait_for_file(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.005)


def _short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI's service give up on a lock after ``_SHORT`` seconds."""
    original = RunSessionService.open.__func__  # type: ignore[attr-defined]

    def open_quickly(cls: type[RunSessionService], *args: Any, **kwargs: Any) -> Any:
        return original(cls, *args, **{**kwargs, "busy_timeout": _SHORT})

    monkeypatch.setattr(RunSessionService, "open", classmethod(open_quickly))


def _raw_columns(root: Path, run_id: int) -> sqlite3.Row:
    """Every column of the run's row, read with plain sqlite3."""
    conn = sqlite3.connect(db_path(root))
    conn.row_factory = sqlite3.Row
    try:
        found: sqlite3.Row = conn.execute(
            "SELECT * FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
    finally:
        conn.close()
    return found


def _statuses(root: Path) -> dict[int, str]:
    conn = SQLiteConnectionFactory(db_path(root)).connect()
    try:
        return {run.run_id: run.status for run in RunsRepository(conn).iter_runs()}
    finally:
        conn.close()


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every path below ``folder`` with its bytes (None for a folder)."""
    return {
        str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


# --- item 1: an end the database missed ----------------------------------------------


def _success_the_database_missed(root: Path) -> int:
    """A real run finishes while another process holds the database: meta.json says success."""
    flag, go = root.parent / "run-id", root.parent / "go"
    worker = _start("finish-on", str(root), str(flag), str(go), str(_SHORT))
    try:
        _wait_for_file(flag, worker)
        with _locked_by_another_process(db_path(root)):
            go.touch()
            _, stderr = worker.communicate(timeout=60)
    finally:
        _end(worker)
    assert worker.returncode == 3, stderr
    assert "is locked by another process" in stderr
    run_id = int(flag.read_text(encoding="utf-8"))
    assert row(root, run_id).status == "running"
    meta = read_meta(root, run_id)
    assert meta["status"] == "success"
    assert meta["ended_at"] is not None
    return run_id


@pytest.mark.parametrize("command", ["reap", "check"])
def test_an_end_the_database_missed_is_taken_from_meta_json(
    root: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """reap and check --repair take the running row to meta.json's success, never the reverse."""
    run_id = _success_the_database_missed(root)
    ended = read_meta(root, run_id)
    if command == "reap":
        dry = runmeta_json(capsys, root, "reap", "--dry-run")["runs"]
        assert [(f["run_id"], f["outcome"]) for f in dry] == [(run_id, "unrecorded-end")]
        assert row(root, run_id).status == "running"
        (finding,) = runmeta_json(capsys, root, "reap")["runs"]
        assert (finding["run_id"], finding["outcome"]) == (run_id, "end-recorded")
    else:
        (finding,) = runmeta_json(capsys, root, "check", code=1)["findings"]
        assert (finding["kind"], finding["repairable"]) == ("unrecorded-end", True)
        (finding,) = runmeta_json(capsys, root, "check", "--repair")["findings"]
        assert (finding["kind"], finding["repaired"]) == ("unrecorded-end", True)
    assert f"meta.json records success at {ended['ended_at']}" in finding["detail"]
    record = row(root, run_id)
    assert (record.status, record.ended_at) == ("success", ended["ended_at"])
    meta = read_meta(root, run_id)
    assert meta_mismatches(meta, record) == []
    assert (meta["status"], meta["ended_at"], meta["result"]) == (
        "success",
        ended["ended_at"],
        {"value": 0.5},
    )
    assert runmeta_json(capsys, root, "check")["consistent"] is True
    assert runmeta_json(capsys, root, "reap")["runs"] == []


# --- item 2: deleting on a locked database ---------------------------------------------


def _links(project: Path, run_id: int) -> list[Path]:
    """The project's links to run ``run_id`` (a symlink or text file, any layout)."""
    return sorted(
        path
        for path in (project / "experiment_refs").rglob("*")
        if path.name in {str(run_id), f"{run_id}.txt"}
    )


def test_delete_with_files_on_a_locked_database_removes_nothing(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock held by another process: delete-run --with-files exits 1, nothing is removed."""
    project = root.parent / "analysis"
    project.mkdir()
    with RunSessionService.open(root) as service:
        service.edits.add_project("p", project)
        service.finish_success(service.start("to delete", project_id="p"))
    run_dir = root / "result" / "1"
    before = _tree(run_dir)
    (link,) = _links(project, 1)
    _short_busy_timeout(monkeypatch)
    with _locked_by_another_process(db_path(root)):
        code, out, err = runmeta(capsys, root, "delete-run", "--run-id", "1", "--with-files")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith("runmeta: error: run database ")
    assert "is locked by another process" in err and "nothing was changed" in err
    assert _tree(run_dir) == before
    assert link.is_symlink()
    assert row(root, 1).status == "success"
    # Once the lock is gone the same command does the whole job.
    code, out, err = runmeta(capsys, root, "delete-run", "--run-id", "1", "--with-files")
    assert (code, err) == (0, "")
    assert not run_dir.exists()
    assert _links(project, 1) == []
    assert _statuses(root) == {}


# --- item 3: a folder the run did not create -------------------------------------------


def _user_files(folder: Path) -> None:
    (folder / "output").mkdir(parents=True)
    (folder / "output" / "mine.txt").write_text("precious", encoding="utf-8")


def _older_run(folder: Path) -> None:
    _user_files(folder)
    older = {"run_id": 1, "created_at": "2020-01-01T00:00:00+09:00", "status": "success"}
    (folder / "meta.json").write_text(json.dumps(older), encoding="utf-8")


@pytest.mark.parametrize(
    "make", [pytest.param(_user_files, id="no-meta"), pytest.param(_older_run, id="older-meta")]
)
def test_a_folder_the_run_did_not_create_is_never_written_or_deleted(
    root: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], None]
) -> None:
    """A pre-existing result/1: fail with its reason in the row, reported foreign, kept intact."""
    folder = root / "result" / "1"
    make(folder)
    before = _tree(folder)
    project = root.parent / "analysis"
    project.mkdir()
    with RunSessionService.open(root) as service:
        service.edits.add_project("p", project)
        with pytest.raises(RunDirExistsError):
            service.start("finds a folder")
    columns = _raw_columns(root, 1)
    assert (columns["status"], columns["folder"]) == ("fail", "foreign")
    assert (
        columns["reason"]
        == f"start failed: run folder {folder} already exists; refusing to reuse it"
    )

    (finding,) = runmeta_json(capsys, root, "check", code=1)["findings"]
    assert (finding["kind"], finding["repairable"]) == ("foreign-folder", False)
    assert "not made by run 1" in finding["detail"]
    (finding,) = runmeta_json(capsys, root, "check", "--repair", code=1)["findings"]
    assert (finding["kind"], finding["repaired"]) == ("foreign-folder", False)
    assert _tree(folder) == before

    code, _, err = runmeta(capsys, root, "update-run", "--run-id", "1", "--note", "seen")
    assert code == 0
    assert "meta.json not updated" in err
    code, _, err = runmeta(capsys, root, "update-run", "--run-id", "1", "--project-id", "p")
    assert code == 0
    assert _links(project, 1) == []
    code, _, err = runmeta(
        capsys, root, "update-project", "--project-id", "p", "--project-path", str(project)
    )
    assert code == 0
    assert _links(project, 1) == []
    assert runmeta(capsys, root, "delete-project", "--project-id", "p")[0] == 0
    assert _tree(folder) == before

    with pytest.raises(SystemExit) as usage:  # the option only widens --with-files
        runmeta(capsys, root, "delete-run", "--run-id", "1", "--delete-foreign-folder")
    assert usage.value.code == 2
    code, out, err = runmeta(capsys, root, "delete-run", "--run-id", "1", "--with-files")
    assert (code, out) == (1, "")
    assert "--delete-foreign-folder" in err and err.count("\n") == 1
    assert _tree(folder) == before
    assert row(root, 1).note == "seen"
    code, out, err = runmeta(
        capsys, root, "delete-run", "--run-id", "1", "--with-files", "--delete-foreign-folder"
    )
    assert (code, err) == (0, "")
    assert not folder.exists()
    assert _statuses(root) == {}


# --- item 4: a manual status against a live run ---------------------------------------


def test_status_of_a_live_run_is_refused_and_a_forced_one_survives_its_end(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """update-run --status on a live run: refused; with --force it wins over the run's own end."""
    flag, go = root.parent / "run-id", root.parent / "go"
    worker = _start("finish-on", str(root), str(flag), str(go), "30")
    try:
        _wait_for_file(flag, worker)
        run_id = str(int(flag.read_text(encoding="utf-8")))
        code, out, err = runmeta(capsys, root, "update-run", "--run-id", run_id, "--status", "fail")
        assert (code, out) == (1, "")
        assert err.count("\n") == 1
        assert err.startswith(f"runmeta: error: run {run_id} is still running (process ")
        assert "--force" in err
        assert row(root, int(run_id)).status == "running"
        code, out, err = runmeta(
            capsys, root, "update-run", "--run-id", run_id, "--status", "fail", "--force"
        )
        assert code == 0
        assert out.startswith(f"updated run {run_id}")
        assert "still running" in err
        go.touch()
        _, stderr = worker.communicate(timeout=60)
    finally:
        _end(worker)
    assert worker.returncode == 0, stderr
    record = row(root, int(run_id))
    assert record.status == "fail"
    meta = read_meta(root, int(run_id))
    assert meta_mismatches(meta, record) == []
    assert meta["result"] == {"value": 0.5}
    kept = [w for w in meta["warnings"] if "ended by itself as success" in w]
    assert kept and "fail" in kept[0]
    assert "ended by itself as success" in stderr


# --- item 13: concurrent meta.json writers ---------------------------------------------


def test_notes_edited_while_runs_finish_keep_every_field(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 writers x 20 runs while 2 processes edit notes: every meta.json keeps its end fields."""
    stop = root.parent / "stop"
    with RunSessionService.open(root):
        pass  # the database exists before the editors look at it
    writers = [_start("many", str(root), "20") for _ in range(3)]
    editors = [_start("edit", str(root), str(stop), str(seed)) for seed in (1, 2)]
    try:
        for writer in writers:
            _, stderr = writer.communicate(timeout=120)
            assert writer.returncode == 0, stderr
        stop.touch()
        for editor in editors:  # each ends after its current edit, never in the middle
            _, stderr = editor.communicate(timeout=120)
            assert editor.returncode == 0, stderr
    finally:
        stop.touch()
        for process in (*writers, *editors):
            _end(process)
    conn = SQLiteConnectionFactory(db_path(root)).connect()
    try:
        runs = list(RunsRepository(conn).iter_runs())
    finally:
        conn.close()
    assert len(runs) == 60
    edited = 0
    for run in runs:
        meta = read_meta(root, run.run_id)
        assert meta_mismatches(meta, run) == [], run.run_id
        index = int(run.command.rsplit(" ", 1)[1])
        assert meta["result"] == {"index": index}, run.run_id
        assert meta["outputs"] == ["output/answer.txt"], run.run_id
        assert meta["process"] is not None, run.run_id
        if index % 3 == 2:
            assert (run.status, meta["reason"]) == ("fail", f"_Planned: planned failure {index}")
        else:
            assert (run.status, meta["reason"]) == ("success", None)
        edited += run.note.startswith("edit ")
    assert edited > 0
    assert runmeta_json(capsys, root, "check")["consistent"] is True


def test_check_compares_the_reason_and_the_process(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A meta.json that lost its reason and process is stale-meta; --repair restores both."""
    with RunSessionService.open(root) as service:
        ctx = service.start("fails")
        service.finish_fail(ctx, "boom")
    meta = read_meta(root, ctx.run_id)
    meta.update(reason=None, process=None)
    (root / "result" / "1" / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (finding,) = runmeta_json(capsys, root, "check", code=1)["findings"]
    assert finding["kind"] == "stale-meta"
    assert finding["detail"].endswith("on reason, process")
    runmeta_json(capsys, root, "check", "--repair")
    repaired = read_meta(root, ctx.run_id)
    assert repaired["reason"] == "boom"
    assert (repaired["process"]["host"], repaired["process"]["pid"]) == (
        ctx.process.host,
        ctx.process.pid,
    )
    assert runmeta_json(capsys, root, "check")["consistent"] is True


# --- item 14: a running row can always be judged ---------------------------------------


def test_sigterm_right_after_the_insert_is_recorded_killed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM just after the INSERT's commit, before the folder exists: the run ends killed."""
    from monocycle_nash.runmeta import service as service_module  # noqa: PLC0415

    real = service_module.transaction
    calls: list[int] = []

    @contextmanager
    def then_sigterm(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        with real(conn) as inner:
            yield inner
        calls.append(1)
        if len(calls) == 1:  # the INSERT's transaction has committed
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(service_module, "transaction", then_sigterm)
    with RunSessionService.open(root) as service:
        with pytest.raises(RunTerminated), service.record("terminated at once"):
            pytest.fail("the block must not run")  # pragma: no cover
        record = service.runs.get(1)
    assert record.status == "killed"
    assert _raw_columns(root, 1)["reason"] == "start failed: terminated by signal 15 (SIGTERM)"


@pytest.mark.parametrize("where", ["after-insert", "after-mkdir"])
def test_sigkill_while_starting_is_judged_from_the_row(
    root: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """SIGKILL before the first meta.json: reap judges the row's process; check is consistent."""
    worker = _start("die", str(root), where)
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == -signal.SIGKILL, stderr
    assert row(root, 1).status == "running"
    columns = _raw_columns(root, 1)
    assert (columns["host"], columns["pid"]) == (os.uname().nodename, worker.pid)
    assert columns["process_start"]
    assert not (root / "result" / "1" / "meta.json").exists()
    (finding,) = runmeta_json(capsys, root, "reap")["runs"]
    assert (finding["outcome"], finding["pid"]) == ("killed", worker.pid)
    assert row(root, 1).status == "killed"
    runmeta_json(capsys, root, "check", "--repair", code=0)
    assert runmeta_json(capsys, root, "check")["consistent"] is True
    if where == "after-mkdir":
        meta = read_meta(root, 1)
        assert meta["status"] == "killed"
        assert (meta["process"]["pid"], meta["process"]["start_time"]) == (
            worker.pid,
            columns["process_start"],
        )
    else:
        assert not (root / "result" / "1").exists()


def test_random_kills_leave_no_running_run_after_reap_and_check(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """30 SIGKILLs, 30 SIGTERMs at random moments of real runs: reap + check leave none running."""
    chooser = random.Random(20261127)  # a test's choices, not secrets
    signals = [signal.SIGKILL] * 30 + [signal.SIGTERM] * 30
    chooser.shuffle(signals)
    with RunSessionService.open(root):
        pass
    # One interpreter start; each victim is a forked child of it, a process of its own.
    zygote = _start("zygote", str(root), "400", stdin=True)
    assert zygote.stdin is not None and zygote.stdout is not None
    # A victim that never exits would leave readline() waiting: past two minutes the
    # zygote is killed, its pipe closes, and the test fails instead of hanging.
    watchdog = threading.Timer(120, zygote.kill)
    watchdog.start()
    try:
        assert zygote.stdout.readline() == "zygote ready\n"
        for first in range(0, len(signals), 10):
            batch = signals[first : first + 10]
            zygote.stdin.write("fork\n" * len(batch))
            zygote.stdin.flush()
            pids = []
            for _ in batch:
                word, pid = zygote.stdout.readline().split()
                assert word == "ready"
                pids.append(int(pid))
            for pid, signum in zip(pids, batch, strict=True):
                time.sleep(chooser.uniform(0.0, 0.02))
                os.kill(pid, signum)
            # A SIGTERMed child records its end before it exits.
            zygote.stdin.write("".join(f"wait {pid}\n" for pid in pids))
            zygote.stdin.flush()
            for pid in pids:
                assert zygote.stdout.readline().split()[:2] == ["exited", str(pid)]
        zygote.stdin.close()
        assert zygote.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        _end(zygote)
    assert runmeta(capsys, root, "reap")[0] == 0
    runmeta(capsys, root, "check", "--repair")
    report = runmeta_json(capsys, root, "check")
    assert report["findings"] == []
    statuses = _statuses(root)
    assert "killed" in statuses.values()  # kills did land inside runs
    assert "running" not in statuses.values()


# --- reap dates the end from the last write --------------------------------------------


def test_reap_dates_the_end_from_the_last_write(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reaped run ends at its last write (logs, meta.json, outputs), and the reason says which."""
    with held_run(root, "dated") as (process, run_id):
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    run_dir = root / "result" / str(run_id)
    now = time.time()
    # The run began two hours ago: its meta.json was last written an hour ago, its log
    # half an hour ago (and an output "tomorrow", by a wrong clock: no evidence).
    began = datetime.fromtimestamp(int(now - 7200), JST).isoformat()
    conn = sqlite3.connect(db_path(root))
    try:
        with conn:
            conn.execute(
                "UPDATE runs SET created_at = ?, started_at = ? WHERE run_id = ?",
                (began, began, run_id),
            )
    finally:
        conn.close()
    meta = read_meta(root, run_id)
    meta.update(created_at=began, started_at=began)
    (run_dir / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    log = run_dir / "logs" / "stdout.log"
    log.write_text("last words\n", encoding="utf-8")
    future = run_dir / "output" / "answer.txt"
    future.write_text("42\n", encoding="utf-8")
    os.utime(run_dir / "meta.json", (now - 3600, now - 3600))
    os.utime(log, (now - 1800, now - 1800))
    os.utime(future, (now + 86400, now + 86400))
    (finding,) = runmeta_json(capsys, root, "reap")["runs"]
    assert finding["outcome"] == "killed"
    expected = datetime.fromtimestamp(int(now - 1800), JST).isoformat()
    record = row(root, run_id)
    assert record.ended_at == expected
    reason = read_meta(root, run_id)["reason"]
    assert "is gone (found by reap at " in reason
    assert reason.endswith(f"it ended at about {expected} (the last write to logs/stdout.log)")
