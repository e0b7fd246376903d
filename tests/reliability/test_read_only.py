"""Reading the history where nothing may be written, and a write that waits on a lock.

A read-only copy of a project (a read-only bind mount, or a folder the process may not
write: as root, which ignores file modes, the child runs without the capabilities that
override them) is listed, shown and checked by every command that only reads; where
SQLite would need to write to read (a write-ahead log without its index) one line says
why and what to do. A command that only reads never creates a database or a folder.
A write that waits on another process's lock says so on stderr after about a second.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta import FixedClock, RunSessionService
from tests.reliability.helpers import HERE, db_path, runmeta

MAIN = HERE.parents[1] / "src" / "main.py"
TIMEOUT = 60

READERS = [
    pytest.param(["list-runs", "--json"], id="list-runs"),
    pytest.param(["show-run", "--run-id", "2", "--json"], id="show-run"),
    pytest.param(["list-projects", "--json"], id="list-projects"),
    pytest.param(["check", "--json"], id="check"),
    pytest.param(["reap", "--dry-run", "--json"], id="reap-dry-run"),
]


def _history(root: Path) -> None:
    """A project ``study`` and two finished runs below ``root``; the WAL checkpointed away.

    The runs have no project: a copy of ``root`` is another result root, whose runs
    the project's links (made for ``root``) do not name.
    """
    (root / "analysis").mkdir(parents=True)
    clock = FixedClock("2026-02-14T19:30:12+09:00", step=1)
    with RunSessionService.open(root, clock=clock, git_probe=lambda: None) as service:
        service.ensure_project("study", root / "analysis")
        for note in ("first", "second"):
            service.finish_success(service.start("run", note=note))


def _cli(root: Path, argv: list[str], prefix: list[str] | None = None) -> tuple[int, str, str]:
    """Run ``runmeta ARGV`` in its own process in ``root`` (behind ``prefix``)."""
    result = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "monocycle_nash.runmeta", *argv],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


def _answers(argv: list[str], out: str) -> None:
    """The JSON answer of a reader of ``_history``: the runs and project are all there."""
    document = json.loads(out)
    if argv[0] == "list-runs":
        assert [run["note"] for run in document] == ["second", "first"]
    elif argv[0] == "show-run":
        assert (document["run"]["note"], document["meta"]["note"]) == ("second", "second")
    elif argv[0] == "list-projects":
        assert [project["project_id"] for project in document] == ["study"]
    elif argv[0] == "check":
        assert (document["consistent"], document["runs_checked"]) == (True, 2)
    else:
        assert document == {"dry_run": True, "runs": []}


# -- a read-only mount -------------------------------------------------------------------


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Iterator[Path]:
    """A project with a history, seen through a read-only bind mount (root and mount(8))."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a read-only bind mount needs root and mount(8)")
    source, mounted = tmp_path / "source", tmp_path / "mounted"
    _history(source)
    mounted.mkdir()
    bound = subprocess.run(
        ["mount", "--bind", str(source), str(mounted)], capture_output=True, check=False
    )
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.decode().strip()}")
    try:
        remounted = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(mounted)], capture_output=True, check=False
        )
        if remounted.returncode != 0:
            pytest.skip(f"cannot make the mount read-only: {remounted.stderr.decode().strip()}")
        yield mounted
    finally:
        subprocess.run(["umount", "--lazy", str(mounted)], check=True)


@pytest.mark.parametrize("argv", READERS)
def test_a_read_only_mount_can_be_read(read_only_copy: Path, argv: list[str]) -> None:
    """On a read-only mount every command that only reads answers in full, exit 0."""
    before = sorted(p.name for p in (read_only_copy / ".runmeta").iterdir())
    code, out, err = _cli(read_only_copy, argv)
    assert (code, err) == (0, ""), err
    _answers(argv, out)
    assert sorted(p.name for p in (read_only_copy / ".runmeta").iterdir()) == before


def test_a_read_only_copy_with_its_wal_files_can_be_read(tmp_path: Path) -> None:
    """A copy taken while the database was open (-wal and -shm beside it) reads through them."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a read-only bind mount needs root and mount(8)")
    source, copy, mounted = tmp_path / "source", tmp_path / "copy", tmp_path / "mounted"
    _history(source)
    with RunSessionService.open(source, git_probe=lambda: None) as service:
        service.edits.update_run(2, note="changed while open")
        shutil.copytree(source, copy, symlinks=True)  # -wal holds the change, not yet in the db
    assert (copy / ".runmeta" / "run_history.db-wal").stat().st_size > 0
    mounted.mkdir()
    subprocess.run(["mount", "--bind", str(copy), str(mounted)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], check=True)
        code, out, err = _cli(mounted, ["list-runs", "--json"])
        assert (code, err) == (0, "")
        assert [run["note"] for run in json.loads(out)] == ["changed while open", "first"]
        (mounted_shm,) = (mounted / ".runmeta").glob("*-shm")
        assert mounted_shm.exists()
    finally:
        subprocess.run(["umount", "--lazy", str(mounted)], check=True)
    (copy / ".runmeta" / "run_history.db-shm").unlink()  # the log without its index
    subprocess.run(["mount", "--bind", str(copy), str(mounted)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], check=True)
        code, out, err = _cli(mounted, ["list-runs"])
    finally:
        subprocess.run(["umount", "--lazy", str(mounted)], check=True)
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "run_history.db-wal holds changes" in err
    assert "copy the folder somewhere writable" in err


# -- a folder the process may not write ------------------------------------------------------


def _without_file_permission_override() -> list[str]:
    """A prefix that makes the child obey file modes: as root, drop the overriding capabilities."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root ignores file modes and setpriv (util-linux) is missing to drop that")
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    if subprocess.run([*prefix, "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("root ignores file modes and this sandbox forbids dropping capabilities")
    return prefix


@pytest.mark.parametrize("argv", READERS)
def test_a_folder_without_write_permission_can_be_read(tmp_path: Path, argv: list[str]) -> None:
    """.runmeta/ that may not be written (no -shm can be made): every reader still answers."""
    prefix = _without_file_permission_override()
    root = tmp_path / "project"
    _history(root)
    folder = root / ".runmeta"
    folder.chmod(0o555)
    db_path(root).chmod(0o444)
    try:
        code, out, err = _cli(root, argv, prefix)
    finally:
        folder.chmod(0o755)
    assert (code, err) == (0, ""), err
    _answers(argv, out)
    assert [p.name for p in folder.iterdir()] == ["run_history.db"]


# -- a missing database ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code", "out"),
    [
        pytest.param(["list-runs"], 0, "", id="list-runs"),
        pytest.param(["list-runs", "--json"], 0, "[]\n", id="list-runs-json"),
        pytest.param(["list-projects", "--json"], 0, "[]\n", id="list-projects"),
        pytest.param(["show-run", "--run-id", "1"], 1, "", id="show-run"),
        pytest.param(["check"], 0, "", id="check"),
        pytest.param(["reap", "--dry-run"], 0, "", id="reap-dry-run"),
    ],
)
def test_reading_a_missing_database_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, out: str
) -> None:
    """No database yet: one line saying so, exit 0 (show-run 1), no folder or file made."""
    result = runmeta(capsys, tmp_path, *argv)
    prefix = "runmeta: error: " if code else "runmeta: "
    line = f"{prefix}no run database at {db_path(tmp_path)} (nothing recorded yet)\n"
    assert result == (code, out, line)
    assert list(tmp_path.iterdir()) == []


def test_check_without_a_database_but_with_run_folders_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run folders but no database (wrong --db-path?): check exits 1 in one line, makes nothing."""
    (tmp_path / "result" / "1").mkdir(parents=True)
    code, out, err = runmeta(capsys, tmp_path, "check")
    assert (code, out) == (1, "")
    assert err == (
        f"runmeta: error: no run database at {db_path(tmp_path)}, but {tmp_path / 'result'}"
        " holds 1 run folder; give the database with --db-path\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


# -- a write that waits on another process's lock ------------------------------------------

_NOTE = ("update-run", "--run-id", "1", "--note", "after the wait")
_HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
conn.execute("ROLLBACK")
"""


def test_a_write_waiting_on_a_lock_says_so_then_carries_on(tmp_path: Path) -> None:
    """Another process holds the lock ~2.5 s: CLI and main job say they wait, then succeed."""
    root = tmp_path / "project"
    _history(root)
    flag = tmp_path / "locked"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(db_path(root)), str(flag), "2.5"],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while not flag.exists():
            assert holder.poll() is None, holder.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        writers = [
            subprocess.Popen(
                command,
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for command in (
                [sys.executable, "-m", "monocycle_nash.runmeta", *_NOTE],
                [sys.executable, str(MAIN), "--root", str(root)],
            )
        ]
        results = [(w.wait(timeout=TIMEOUT), *w.communicate()) for w in writers]
    finally:
        holder.kill()
        holder.communicate()
    waiting = "is busy (locked by another process); waiting up to 30 s...\n"
    for code, _, err in results:
        assert code == 0, err
        assert err.count(waiting) == 1, err
    cli_line = f"runmeta: database {Path('.runmeta', 'run_history.db')} {waiting}"
    assert results[0][1:] == (
        "updated run 1 (success, no project, note 'after the wait')\n",
        cli_line,
    )
    assert f"runmeta: database {db_path(root)} {waiting}" in results[1][2]
