"""Helpers shared by the in-process CLI tests (test_cli_runs.py, test_cli_projects.py).

Every helper works on the CLI's default layout below the current folder, which the
``workspace`` fixture in conftest.py points at a fresh ``tmp_path``, and on the
database the CLI finds there: ``RUNMETA_DATABASE_URL`` when it is set (the
``[postgres]`` variants), else the SQLite file ``DB``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta.backends import URL_VARIABLE
from monocycle_nash.runmeta.cli import main
from monocycle_nash.runmeta.models import RunRecord
from monocycle_nash.runmeta.repositories import RunsRepository
from tests.runmeta.backend_support import Backend

DB = Path(".runmeta/run_history.db")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process and return (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def usage_error(capsys: pytest.CaptureFixture[str], subcommand: str, *argv: str) -> str:
    """Run ``runmeta SUBCOMMAND ARGV`` expecting a usage error; return its stderr.

    A usage error exits 2 from argparse, prints nothing on stdout and starts stderr with
    a usage line (the subcommand's, or the program's for an option no parser knows).
    """
    with pytest.raises(SystemExit) as exit_info:
        main([subcommand, *argv])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert captured.err.startswith("usage: runmeta "), captured.err
    return captured.err


def current_backend() -> Backend:
    """The database the CLI finds from the current folder, as a :class:`Backend`."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        return Backend("postgres", Path.cwd(), url)
    return Backend("sqlite", Path.cwd())


@contextmanager
def connect() -> Iterator[Any]:
    """A connection to the default database, closed on exit."""
    with current_backend().connect() as connection:
        yield connection


def find_run(run_id: int) -> RunRecord | None:
    """The run's row as the database has it now, or None."""
    with connect() as connection:
        return RunsRepository(connection).find_by_id(run_id)


def get_run(run_id: int) -> RunRecord:
    """The run's row as the database has it now; fails the test if it is gone."""
    row = find_run(run_id)
    assert row is not None, f"run {run_id} has no row"
    return row


def read_meta(run_id: int) -> dict[str, object]:
    """The run's meta.json under the default result folder."""
    data = json.loads(Path(f"result/{run_id}/meta.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
