"""Shared helpers of the reliability tests: real processes, the CLI, the database.

The database of a project is its default SQLite file, or the PostgreSQL database that
``RUNMETA_DATABASE_URL`` names (set by ``Backend.export`` for the ``[postgres]``
variants): the helpers find it as ``runmeta`` and ``RunSessionService.open`` do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta import RunRecord
from monocycle_nash.runmeta.backends import URL_VARIABLE, DatabaseUrl, connect
from monocycle_nash.runmeta.cli import main as runmeta_main
from monocycle_nash.runmeta.repositories import RunsRepository

HERE = Path(__file__).parent


def db_path(root: Path) -> Path:
    """The database of the project at ``root``."""
    return root / ".runmeta" / "run_history.db"


def _server_url() -> str | None:
    """The PostgreSQL database the environment names, if any."""
    return os.environ.get(URL_VARIABLE) or None


@contextmanager
def connection(root: Path) -> Iterator[Any]:
    """A connection to the project's database (``?`` placeholders either way), closed on exit."""
    url = _server_url()
    conn = connect(DatabaseUrl(url) if url else db_path(root))
    try:
        yield conn
    finally:
        conn.close()


def runmeta(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    """Run ``runmeta ARGS`` in-process on the project at ``root``: (code, stdout, stderr)."""
    capsys.readouterr()
    url = _server_url()
    database = ["--db-url", url] if url else ["--db-path", str(db_path(root))]
    code = runmeta_main([*database, "--result-root", str(root / "result"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def runmeta_json(capsys: pytest.CaptureFixture[str], root: Path, *args: str, code: int = 0) -> Any:
    """Run a ``--json`` subcommand that must exit ``code`` quietly; return its output."""
    exit_code, out, err = runmeta(capsys, root, *args, "--json")
    assert (exit_code, err) == (code, "")
    return json.loads(out)


def row(root: Path, run_id: int) -> RunRecord:
    """Read run ``run_id`` straight from the database."""
    with connection(root) as conn:
        return RunsRepository(conn).get(run_id)


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
