"""``runmeta reap``: real processes killed with SIGKILL are found and marked killed.

On both backends: the project's SQLite file, or a PostgreSQL database that every
process of the test (the held runs, ``runmeta reap``) finds through
``RUNMETA_DATABASE_URL``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monocycle_nash.runmeta import RunSessionService
from monocycle_nash.runmeta.artifact_store import meta_mismatches
from monocycle_nash.runmeta.edits import root_tag
from monocycle_nash.runmeta.process import ProcessState, current_process
from monocycle_nash.runmeta.repair import reap
from tests.reliability.helpers import (
    connection,
    db_path,
    held_run,
    read_meta,
    row,
    runmeta,
    runmeta_json,
)
from tests.runmeta.backend_support import Backend

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="process start times come from /proc"
)


@pytest.fixture
def root(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder, whose database is the backend's."""
    folder = tmp_path / "project"
    folder.mkdir()
    backend.export(monkeypatch)
    return folder


_COLUMNS = {"host": "host", "pid": "pid", "start_time": "process_start"}


def _set_row_process(root: Path, run_id: int, **values: object) -> None:
    """Change the process columns of a run's row (``None``s: a row of schema version 2)."""
    assignments = ", ".join(f"{_COLUMNS[name]} = ?" for name in values)
    with connection(root) as conn:
        conn.execute(
            f"UPDATE runs SET {assignments} WHERE run_id = ?",  # noqa: S608 - fixed names
            (*values.values(), run_id),
        )


def _rewrite_process(root: Path, run_id: int, **changes: object) -> None:
    """Change the recorded process of a run, in its row and meta.json (as another machine would)."""
    path = root / "result" / str(run_id) / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["process"].update(changes)
    path.write_text(json.dumps(meta), encoding="utf-8")
    _set_row_process(root, run_id, **changes)


def test_sigkilled_run_is_reaped_and_live_run_left_alone(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SIGKILLed run shows as dead, reap marks it killed with a reason; a live one stays."""
    with held_run(root, "victim") as (victim, dead_id), held_run(root, "alive") as (_, live_id):
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        listed = {item["run_id"]: item for item in runmeta_json(capsys, root, "list-runs")}
        assert (listed[dead_id]["status"], listed[dead_id]["process"]) == ("running", "dead")
        assert (listed[live_id]["status"], listed[live_id]["process"]) == ("running", "alive")
        code, out, err = runmeta(capsys, root, "list-runs")
        assert (code, err) == (0, "")
        statuses = {line.split()[0]: line.split()[1:3] for line in out.splitlines()[1:]}
        assert statuses[str(dead_id)] == ["running", "(dead)"]
        assert statuses[str(live_id)][0] == "running"
        assert statuses[str(live_id)][1] != "(dead)"
        shown = runmeta_json(capsys, root, "show-run", "--run-id", str(dead_id))
        assert shown["process"] == "dead"
        code, out, err = runmeta(capsys, root, "show-run", "--run-id", str(dead_id))
        assert "status      running (dead)" in out

        # The command line itself, as a separate process.
        result = subprocess.run(
            [sys.executable, "-m", "monocycle_nash.runmeta", "reap"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        assert f"process {victim.pid} on host" in result.stdout
        assert result.stdout.endswith("2 running runs: 1 marked killed\n")

        dead = row(root, dead_id)
        assert dead.status == "killed"
        assert dead.ended_at is not None
        meta = read_meta(root, dead_id)
        assert meta_mismatches(meta, dead) == []
        assert meta["reason"].startswith(f"process {victim.pid} on host ")
        assert "is gone (found by reap at " in meta["reason"]
        assert row(root, live_id).status == "running"
        assert read_meta(root, live_id)["status"] == "running"

        # A second reap finds only the live run and changes nothing.
        report = runmeta_json(capsys, root, "reap")
        assert report["runs"] == [
            {
                "run_id": live_id,
                "outcome": "alive",
                "host": current_process().host,
                "pid": report["runs"][0]["pid"],
                "detail": report["runs"][0]["detail"],
            }
        ]
        assert row(root, live_id).status == "running"


def test_reused_pid_with_another_start_time_is_dead(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pid that now belongs to a process started at another time does not keep a run alive."""
    with RunSessionService.open(root) as service:
        ctx = service.start("run of an earlier process with the same pid")
    # This test process is alive and has the recorded pid, but not the recorded start.
    _rewrite_process(root, ctx.run_id, pid=os.getpid(), start_time="other-boot:12345")
    assert runmeta_json(capsys, root, "list-runs")[0]["process"] == "dead"
    report = runmeta_json(capsys, root, "reap")
    (finding,) = report["runs"]
    assert finding["outcome"] == "killed"
    assert f"pid {os.getpid()} now belongs to another process" in finding["detail"]
    assert row(root, ctx.run_id).status == "killed"


def test_dry_run_changes_nothing(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run reports the dead run as dead and leaves row and meta.json as they were."""
    with RunSessionService.open(root) as service:
        ctx = service.start("doomed")
    _rewrite_process(root, ctx.run_id, start_time="other-boot:1")
    before = (row(root, ctx.run_id), read_meta(root, ctx.run_id))
    code, out, err = runmeta(capsys, root, "reap", "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split()[:2] == [str(ctx.run_id), "dead"]
    assert out.endswith("1 running run: 1 would be marked killed (dry run)\n")
    assert (row(root, ctx.run_id), read_meta(root, ctx.run_id)) == before


@pytest.mark.parametrize(
    ("damage", "outcome"),
    [
        pytest.param("other-host", "other-host", id="other-host"),
        pytest.param("no-folder", "no-meta", id="no-folder"),
        pytest.param("no-process", "no-meta", id="no-process-in-meta"),
        pytest.param("corrupt-meta", "no-meta", id="unreadable-meta"),
    ],
)
def test_runs_that_cannot_be_checked_are_reported_not_touched(
    root: Path, capsys: pytest.CaptureFixture[str], damage: str, outcome: str
) -> None:
    """Other hosts, and rows of schema 2 without a readable process record: left running."""
    with RunSessionService.open(root) as service:
        ctx = service.start("somewhere")
    meta_path = root / "result" / str(ctx.run_id) / "meta.json"
    if damage != "other-host":  # a row of an older schema: only meta.json can say
        _set_row_process(root, ctx.run_id, host=None, pid=None, start_time=None)
    if damage == "other-host":
        _rewrite_process(root, ctx.run_id, host="another-machine", pid=1)
    elif damage == "no-folder":
        meta_path.unlink()
        for sub in ("input", "output", "logs"):
            meta_path.with_name(sub).rmdir()
        meta_path.parent.rmdir()
    elif damage == "no-process":
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["process"] = None
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    else:
        meta_path.write_text("{ torn", encoding="utf-8")
    report = runmeta_json(capsys, root, "reap")
    assert [(f["run_id"], f["outcome"]) for f in report["runs"]] == [(ctx.run_id, outcome)]
    assert row(root, ctx.run_id).status == "running"
    assert runmeta_json(capsys, root, "list-runs")[0]["process"] == "unknown"


def test_run_that_ends_while_reap_looks_is_not_overwritten(root: Path) -> None:
    """If the run finishes between reap's look and its change, the final status stays."""
    with RunSessionService.open(root) as service:
        ctx = service.start("finishes just in time")

        def finishes_then_exits(host: str, pid: int, start_time: str | None) -> ProcessState:
            service.finish_success(ctx)
            return "dead"

        findings = reap(service, is_alive=finishes_then_exits)
    assert [(f.run_id, f.outcome, f.detail) for f in findings] == [
        (ctx.run_id, "ended", "success meanwhile")
    ]
    assert row(root, ctx.run_id).status == "success"
    assert read_meta(root, ctx.run_id)["status"] == "success"


@pytest.mark.backends("sqlite")  # a file that is not a database
def test_nothing_running_and_a_bad_database(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no running run reap says so (exit 0); a file that is not a database exits 1."""
    assert runmeta(capsys, root, "reap") == (0, "0 running runs: 0 marked killed\n", "")
    assert runmeta_json(capsys, root, "reap") == {"dry_run": False, "runs": []}
    db_path(root).write_bytes(b"not a database at all, just text" * 10)
    code, out, err = runmeta(capsys, root, "reap")
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: cannot open run database")
    assert len(err.splitlines()) == 1


def test_zombie_of_a_killed_run_is_dead(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A killed run process that its parent has not collected yet counts as gone."""
    with held_run(root, "zombie") as (process, run_id):
        process.send_signal(signal.SIGKILL)
        stat = Path("/proc", str(process.pid), "stat")
        deadline = time.monotonic() + 30
        # Until the kernel has made it a zombie (it is not collected: no wait() yet).
        while stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.005)
        (finding,) = runmeta_json(capsys, root, "reap")["runs"]
        assert finding["outcome"] == "killed"
        assert finding["detail"].endswith("(exited; its parent has not collected it yet)")
    assert row(root, run_id).status == "killed"


def test_reaped_run_updates_its_project_text_reference(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the project holds a text reference (no symlinks), reap rewrites its status."""
    analysis = tmp_path / "analysis"
    analysis.mkdir()

    def no_symlinks(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(1, "symlinks not allowed here")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    with RunSessionService.open(root) as service:
        service.edits.add_project("main", analysis)
        ctx = service.start("attached run", project_id="main")
    reference = analysis / "experiment_refs" / root_tag(root / "result") / f"{ctx.run_id}.txt"
    assert reference.read_text(encoding="utf-8").splitlines()[-1] == "status: running"
    _rewrite_process(root, ctx.run_id, start_time="other-boot:1")
    assert runmeta_json(capsys, root, "reap")["runs"][0]["outcome"] == "killed"
    assert reference.read_text(encoding="utf-8").splitlines()[-1] == "status: killed"
    assert read_meta(root, ctx.run_id)["project_id"] == "main"


def test_a_run_killed_before_its_meta_shows_as_dead(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """list-runs and show-run judge a running row by its own process, meta.json or not."""
    with held_run(root, "victim") as (victim, run_id):
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    (root / "result" / str(run_id) / "meta.json").unlink()
    listed = {item["run_id"]: item for item in runmeta_json(capsys, root, "list-runs")}
    assert (listed[run_id]["status"], listed[run_id]["process"]) == ("running", "dead")
    assert runmeta_json(capsys, root, "show-run", "--run-id", str(run_id))["process"] == "dead"
