"""Shared helpers of the reliability tests: real processes, the CLI, the database."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta import RunRecord, SQLiteConnectionFactory
from monocycle_nash.runmeta.cli import main as runmeta_main
from monocycle_nash.runmeta.repositories import RunsRepository

HERE = Path(__file__).parent


def db_path(root: Path) -> Path:
    """The database of the project at ``root``."""
    return root / ".runmeta" / "run_history.db"


def runmeta(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    """Run ``runmeta ARGS`` in-process on the project at ``root``: (code, stdout, stderr)."""
    capsys.readouterr()
    code = runmeta_main(
        ["--db-path", str(db_path(root)), "--result-root", str(root / "result"), *args]
    )
    out, err = capsys.readouterr()
    return code, out, err


def runmeta_json(capsys: pytest.CaptureFixture[str], root: Path, *args: str, code: int = 0) -> Any:
    """Run a ``--json`` subcommand that must exit ``code`` quietly; return its output."""
    exit_code, out, err = runmeta(capsys, root, *args, "--json")
    assert (exit_code, err) == (code, "")
    return json.loads(out)


def row(root: Path, run_id: int) -> RunRecord:
    """Read run ``run_id`` straight from the database."""
    conn = SQLiteConnectionFactory(db_path(root)).connect()
    try:
        return RunsRepository(conn).get(run_id)
    finally:
        conn.close()


def read_meta(root: Path, run_id: int) -> dict[str, Any]:
    """Parse ``result/<run_id>/meta.json``."""
    data: dict[str, Any] = json.loads(
        (root / "result" / str(run_id) / "meta.json").read_text(encoding="utf-8")
    )
    return data


@contextmanager
def held_run(root: Path, name: str = "held") -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Start ``worker_hold.py`` (a real process with a running run); yield it and the run id.

    The process is killed and waited for on exit, whatever happened.
    """
    flag = root.parent / f"{name}.run-id"
    process = subprocess.Popen(
        [sys.executable, str(HERE / "worker_hold.py"), str(root), str(flag)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not flag.exists():
            if process.poll() is not None:
                raise AssertionError(process.communicate()[1].decode())
            assert time.monotonic() < deadline, "the held run did not start"
            time.sleep(0.005)
        yield process, int(flag.read_text(encoding="utf-8"))
    finally:
        process.kill()
        process.communicate(timeout=30)
