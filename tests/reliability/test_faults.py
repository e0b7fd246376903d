"""Faults through the main job and the CLI: one line on stderr, non-zero exit, no run left running.

Each test runs a real process (``python src/main.py --root ROOT`` or ``python -m
monocycle_nash.runmeta``); write failures are injected inside that process by
``faults.py`` (tests run as root, so permissions alone cannot stop a write).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monocycle_nash.runmeta import SCHEMA_VERSION
from monocycle_nash.runmeta.artifact_store import meta_mismatches
from tests.reliability.helpers import HERE, db_path, read_meta, row, runmeta, runmeta_json

MAIN = HERE.parents[1] / "src" / "main.py"
FAULTS = HERE / "faults.py"


def _main_job(root: Path, *rules: str) -> tuple[int, str]:
    """Run the main job on the built-in example with ``rules`` injected: (code, stderr)."""
    command = [sys.executable, str(FAULTS), *rules, "--", str(MAIN), "--root", str(root)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.returncode, result.stderr


def _cli(root: Path, *args: str, rules: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """Run ``runmeta ARGS`` in its own process, in ``root``: (code, stdout, stderr)."""
    command = [sys.executable, str(FAULTS), *rules, "--", "-m", "monocycle_nash.runmeta", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=root)
    return result.returncode, result.stdout, result.stderr


def _one_line(stderr: str, *pieces: str) -> None:
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    for piece in pieces:
        assert piece in stderr, stderr


def _statuses(root: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(db_path(root))
    try:
        return [tuple(r) for r in conn.execute("SELECT run_id, status FROM runs ORDER BY run_id")]
    finally:
        conn.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def test_result_root_that_is_a_file_is_refused_before_anything(root: Path) -> None:
    """A result folder that is a file: one line, exit 1, no database, the file untouched."""
    (root / "result").write_bytes(b"not a folder")
    code, stderr = _main_job(root)
    assert code == 1
    _one_line(stderr, "monocycle-nash: error: cannot use result folder", "not a folder")
    assert (root / "result").read_bytes() == b"not a folder"
    assert not db_path(root).exists()


@pytest.mark.parametrize(
    ("rules", "message", "meta_left"),
    [
        pytest.param(
            ("mkdir:result/1:EACCES",), "cannot write", "no-folder", id="run-folder-not-writable"
        ),
        pytest.param(
            ("write:.meta.json.:ENOSPC",), "No space left on device", "no-meta", id="meta-full-disk"
        ),
        pytest.param(
            ("write:.meta.json.:EIO:2",), "Input/output error (run 1)", "stale", id="final-meta-eio"
        ),
        pytest.param(
            ("write:stdout.log:ENOSPC",),
            "stdout.log: No space left on device (run 1)",
            "fail",
            id="log-full-disk",
        ),
        pytest.param(
            ("write:/output/:ENOSPC",), "run 1 recorded as fail", "fail", id="output-full-disk"
        ),
    ],
)
def test_write_failures_end_the_run_as_fail(
    root: Path,
    capsys: pytest.CaptureFixture[str],
    rules: tuple[str, ...],
    message: str,
    meta_left: str,
) -> None:
    """Disk full, I/O error, unwritable folder: one line, exit 1, run 1 fail; check repairs."""
    code, stderr = _main_job(root, *rules)
    assert code == 1
    _one_line(stderr, "monocycle-nash: error: ", message)
    assert _statuses(root) == [(1, "fail")]
    run_dir = root / "result" / "1"
    assert not list(run_dir.glob(".meta.json.*")), "a temp file was left behind"
    if meta_left == "fail":
        meta = read_meta(root, 1)
        assert meta_mismatches(meta, row(root, 1)) == []
        assert meta["reason"]
    elif meta_left == "stale":
        # The row says fail; meta.json could not be rewritten: check finds it, repair fixes it.
        assert read_meta(root, 1)["status"] == "running"
        report = runmeta_json(capsys, root, "check", "--repair")
        assert [(f["kind"], f["repaired"]) for f in report["findings"]] == [("stale-meta", True)]
        assert meta_mismatches(read_meta(root, 1), row(root, 1)) == []
    elif meta_left == "no-meta":
        assert not (run_dir / "meta.json").exists()
        assert runmeta(capsys, root, "check", "--repair")[0] == 0
        assert read_meta(root, 1)["status"] == "fail"
    else:
        assert meta_left == "no-folder"
        assert not run_dir.exists()


def test_existing_run_folder_is_not_reused(root: Path) -> None:
    """A result/1 that already exists: run 1 recorded fail, the folder left byte for byte."""
    stranger = root / "result" / "1" / "notes.txt"
    stranger.parent.mkdir(parents=True)
    stranger.write_text("someone else's", encoding="utf-8")
    code, stderr = _main_job(root)
    assert code == 1
    _one_line(stderr, "result/1 already exists; refusing to reuse it; run 1 recorded as fail")
    assert _statuses(root) == [(1, "fail")]
    assert [p.name for p in stranger.parent.iterdir()] == ["notes.txt"]
    assert stranger.read_text(encoding="utf-8") == "someone else's"


def _not_a_database(root: Path) -> bytes:
    content = b"these are my lab notes, not SQLite\n" * 200
    db_path(root).parent.mkdir(parents=True)
    db_path(root).write_bytes(content)
    return content


def _newer_database(root: Path) -> bytes:
    db_path(root).parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path(root))
    try:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    finally:
        conn.close()
    return db_path(root).read_bytes()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(_not_a_database, "is not an SQLite database", id="not-a-database"),
        pytest.param(_newer_database, "newer than the supported version", id="newer-schema"),
    ],
)
@pytest.mark.parametrize(
    "program",
    [
        pytest.param("main", id="main-job"),
        pytest.param("list-runs", id="list-runs"),
        pytest.param("reap", id="reap"),
        pytest.param("check", id="check"),
    ],
)
def test_unusable_database_is_refused_and_never_overwritten(
    root: Path, make: Callable[[Path], bytes], message: str, program: str
) -> None:
    """Not a database / a newer schema: one line, exit 1, the file byte for byte the same."""
    content = make(root)
    if program == "main":
        code, stderr = _main_job(root)
        out = ""
    else:
        code, out, stderr = _cli(root, program)
    assert (code, out) == (1, "")
    _one_line(stderr, message)
    assert db_path(root).read_bytes() == content
    assert not (root / "result").exists()


def test_update_run_with_a_full_disk_says_so_and_check_repairs(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """update-run whose meta.json write hits ENOSPC: one line, exit 1; check --repair syncs."""
    assert _main_job(root)[0] == 0
    code, out, stderr = _cli(
        root, "update-run", "--run-id", "1", "--note", "x", rules=("write:.meta.json.:ENOSPC",)
    )
    assert (code, out) == (1, "")
    _one_line(stderr, "runmeta: error: cannot write", "No space left on device")
    assert row(root, 1).note == "x"
    assert runmeta(capsys, root, "check", "--repair")[0] == 0
    assert read_meta(root, 1)["note"] == "x"
