"""A run database that is damaged, read-only, failing or full: one line, exit 1, file kept.

Each case breaks a real database by a real means and runs the real ``runmeta`` CLI or
the main job as a separate process: a malformed image (bytes overwritten in the
b-tree pages of ``runs``), a file the process may not write (as root, which ignores
file modes, the child runs without the capabilities that override them), a disk I/O
error (a file size limit that makes SQLite's writes fail with ``EFBIG``) and a full
disk (a small tmpfs mounted over ``.runmeta/``, needing root). Each must print one
stderr line naming the database and the problem, no traceback, exit 1, and leave the
database file byte for byte.
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from monocycle_nash.runmeta import FixedClock, RunSessionService

REPO = Path(__file__).resolve().parents[2]
MAIN = REPO / "src" / "main.py"
TIMEOUT = 120
PAGE = 4096

Program = Callable[[Path], list[str]]
"""The command line of one program on the project at the given root."""


def _runmeta(*argv: str) -> Program:
    def command(root: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "monocycle_nash.runmeta",
            "--db-path",
            str(_db(root)),
            "--result-root",
            str(root / "result"),
            *argv,
        ]

    return command


def _main_job(root: Path) -> list[str]:
    return [sys.executable, str(MAIN), "--root", str(root)]


LIST_RUNS = pytest.param(_runmeta("list-runs"), id="list-runs")
SHOW_RUN = pytest.param(_runmeta("show-run", "--run-id", "1"), id="show-run")
UPDATE_RUN = pytest.param(_runmeta("update-run", "--run-id", "1", "--note", "x"), id="update-run")
DELETE_RUN = pytest.param(_runmeta("delete-run", "--run-id", "1"), id="delete-run")
ADD_PROJECT = pytest.param(
    _runmeta("add-project", "--project-id", "p", "--project-path", "."), id="add-project"
)
CHECK = pytest.param(_runmeta("check"), id="check")
REAP = pytest.param(_runmeta("reap"), id="reap")
MAIN_JOB = pytest.param(_main_job, id="main-job")


def _db(root: Path) -> Path:
    return root / ".runmeta" / "run_history.db"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project root whose history holds three finished runs, the WAL checkpointed away."""
    project = tmp_path / "project"
    clock = FixedClock("2026-02-14T19:30:12+09:00", step=10)
    with RunSessionService.open(project, clock=clock, git_probe=lambda: None) as service:
        for number in range(3):
            service.finish_success(service.start(f"run {number}"))
    assert not _db(project).with_name("run_history.db-wal").exists()
    return project


def _run(
    program: Program, root: Path, *, prefix: list[str] | None = None, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``program`` on ``root`` (behind ``prefix``, under a file size limit) and capture it."""

    def limit_file_size() -> None:  # in the child, before exec; Python ignores SIGXFSZ
        assert fsize is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [*(prefix or []), *program(root)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=None if fsize is None else limit_file_size,
    )


def _assert_one_line(result: subprocess.CompletedProcess[str], root: Path, *problem: str) -> None:
    """Exit 1, no traceback, one stderr line naming the database and each ``problem`` word."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(_db(root)) in lines[0]
    for word in problem:
        assert word in lines[0]


# -- a malformed database image --------------------------------------------------------


def _break_runs_pages(db: Path) -> None:
    """Overwrite the second half of every b-tree page of ``runs`` and its indexes with 0xFF."""
    with closing(sqlite3.connect(db)) as conn:
        pages = [
            row[0]
            for row in conn.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'runs'")
        ]
    image = bytearray(db.read_bytes())
    for page in pages:
        start = (page - 1) * PAGE
        image[start + PAGE // 2 : start + PAGE] = b"\xff" * (PAGE // 2)
    db.write_bytes(bytes(image))
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok"


@pytest.mark.parametrize(
    "program", [LIST_RUNS, SHOW_RUN, UPDATE_RUN, DELETE_RUN, CHECK, REAP, MAIN_JOB]
)
def test_malformed_database_is_one_line_naming_it(root: Path, program: Program) -> None:
    """A damaged database ('disk image is malformed') stops every command in one line."""
    _break_runs_pages(_db(root))
    before = _db(root).read_bytes()
    result = _run(program, root)
    _assert_one_line(result, root, "is damaged", "database disk image is malformed")
    assert _db(root).read_bytes() == before


# -- a database the process may not write ----------------------------------------------


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


@pytest.mark.parametrize("program", [UPDATE_RUN, ADD_PROJECT, MAIN_JOB])
def test_read_only_database_is_one_line_naming_it(root: Path, program: Program) -> None:
    """A database file the process may not write refuses the write in one line, unchanged."""
    prefix = _without_file_permission_override()
    _db(root).chmod(0o444)
    before = _db(root).read_bytes()
    result = _run(program, root, prefix=prefix)
    _assert_one_line(result, root, "is read-only", "attempt to write a readonly database")
    assert _db(root).read_bytes() == before


# -- a disk I/O error --------------------------------------------------------------------


@pytest.mark.parametrize("program", [LIST_RUNS, UPDATE_RUN, MAIN_JOB])
def test_disk_io_error_on_opening_is_one_line_naming_it(root: Path, program: Program) -> None:
    """Writes failing with EFBIG as the WAL index is sized: one line with SQLite's I/O code."""
    before = _db(root).read_bytes()
    result = _run(program, root, fsize=PAGE)
    _assert_one_line(result, root, "disk I/O error (SQLITE_IOERR_SHMSIZE)", "check the disk")
    assert _db(root).read_bytes() == before


def test_disk_io_error_on_commit_is_one_line_naming_it(root: Path) -> None:
    """The main job's INSERT failing at COMMIT (WAL write past the size limit): one line."""
    before = _db(root).read_bytes()
    # Room for the 32 KiB WAL index, not for the ~33 KiB of WAL frames a new run writes.
    result = _run(_main_job, root, fsize=8 * PAGE + 100)
    _assert_one_line(result, root, "disk I/O error", "SQLITE_IOERR_WRITE")
    assert _db(root).read_bytes() == before
    assert not (root / "result" / "4").exists()


# -- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def full_disk(root: Path) -> Iterator[Path]:
    """Put ``.runmeta/`` on a small tmpfs filled up to 9 free pages: room to open, not to write."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    folder = _db(root).parent
    saved = root / "saved.db"
    shutil.move(_db(root), saved)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        shutil.copyfile(saved, _db(root))
        stats = os.statvfs(folder)
        room = 9 * PAGE  # the 32 KiB WAL index and one page more
        (folder / "filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - room))
        yield root
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


@pytest.mark.parametrize("program", [ADD_PROJECT, UPDATE_RUN, MAIN_JOB])
def test_full_disk_is_one_line_naming_it(full_disk: Path, program: Program) -> None:
    """A write that finds the disk full: 'the disk is full' in one line, the file unchanged."""
    before = _db(full_disk).read_bytes()
    result = _run(program, full_disk)
    _assert_one_line(result, full_disk, "the disk is full", "database or disk is full")
    assert _db(full_disk).read_bytes() == before
