"""Subprocess tests of the three ways to start ``runmeta``, and of a closed pipe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.db import SQLiteConnectionFactory, transaction
from monocycle_nash.runmeta.repositories import RunsRepository
from monocycle_nash.runmeta.service import RunSessionService


def _console_script() -> str:
    found = shutil.which("runmeta", path=str(Path(sys.executable).parent))
    assert found is not None, "the runmeta console script is not installed next to python"
    return found


ENTRY_POINTS = [
    pytest.param([sys.executable, "-m", "monocycle_nash.runmeta.cli"], id="python-m-cli"),
    pytest.param([sys.executable, "-m", "monocycle_nash.runmeta"], id="python-m-package"),
    pytest.param(None, id="console-script"),
]


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A project root holding one finished run."""
    with RunSessionService.open(tmp_path, clock=FixedClock("2026-02-14T19:30:12+09:00")) as rs:
        rs.finish_success(rs.start("python src/main.py", note="entry"))
    return tmp_path


def _run(prefix: list[str] | None, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [*(prefix or [_console_script()]), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("prefix", ENTRY_POINTS)
def test_entry_point_lists_runs(prefix: list[str] | None, recorded: Path) -> None:
    """Each entry point lists the run recorded in the current folder, exit 0, empty stderr."""
    result = _run(prefix, ["list-runs", "--json"], recorded)
    assert (result.returncode, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert [(item["run_id"], item["note"]) for item in data] == [(1, "entry")]


@pytest.mark.slow
@pytest.mark.parametrize("prefix", ENTRY_POINTS)
def test_entry_point_exit_codes_reach_the_shell(prefix: list[str] | None, recorded: Path) -> None:
    """A refusal exits 1 with one stderr line and no traceback; a usage error exits 2."""
    refused = _run(prefix, ["show-run", "--run-id", "9"], recorded)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == "runmeta: error: run 9 not found\n"
    usage = _run(prefix, ["list-runs", "--status", "done"], recorded)
    assert (usage.returncode, usage.stdout) == (2, "")
    assert usage.stderr.startswith("usage: runmeta list-runs")


@pytest.mark.slow
def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """runmeta list-runs | head: the closed pipe ends the listing quietly with exit 1."""
    connection = SQLiteConnectionFactory(tmp_path / ".runmeta/run_history.db").connect()
    try:
        with transaction(connection):
            runs = RunsRepository(connection)
            for index in range(4000):
                stamp = f"2026-02-14T10:{index // 60 % 60:02d}:{index % 60:02d}+09:00"
                runs.create_running(f"python job.py --index {index}", None, "", None, *[stamp] * 3)
    finally:
        connection.close()
    with subprocess.Popen(
        [_console_script(), "list-runs"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().split()[0] == b"RUN"
        process.stdout.close()
        stderr = process.stderr.read()
        code = process.wait(timeout=60)
    assert stderr == b""
    assert code == 1
