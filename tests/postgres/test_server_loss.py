"""A server that goes away in the middle of a session: one clear line, nothing lost silently."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from monocycle_nash.runmeta import (
    DatabaseConnectionLostError,
    DatabaseWriteError,
    RunSessionService,
)

pytestmark = pytest.mark.postgres


class _OwnServer:
    """A PostgreSQL server of one test, which the test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server: Any = self.start()
        with psycopg.connect(self.server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE history")
        self.url: str = self.server.get_uri("history")

    def start(self) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
            import pgserver  # noqa: PLC0415

            return pgserver.get_server(self.folder, cleanup_mode="stop")

    def stop(self) -> None:
        self.server.cleanup()


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_OwnServer]:
    """A server of this test alone (stopping the session's server would end every test)."""
    server = _OwnServer(tmp_path_factory.mktemp("own-postgres"))
    try:
        yield server
    finally:
        server.stop()


def test_a_run_whose_server_went_away_says_so_in_one_line(
    tmp_path: Path, own_server: _OwnServer
) -> None:
    """The end cannot be recorded: one line with the repair; meta.json keeps the end."""
    with RunSessionService.open(tmp_path, database_url=own_server.url) as service:
        ctx = service.start("long job")
        own_server.stop()
        with pytest.raises(DatabaseWriteError) as caught:
            service.finish_success(ctx)
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith("cannot record run 1 in the database: lost the connection to")
        assert message.endswith("repair with: runmeta update-run --run-id 1 --status success")
        meta = json.loads((tmp_path / "result" / "1" / "meta.json").read_text(encoding="utf-8"))
        assert (meta["status"], meta["ended_at"] is not None) == ("success", True)

        # The server is back: the same service reconnects between transactions, and
        # check --repair takes the row to the end meta.json recorded.
        own_server.server = own_server.start()
        with service.record("next job") as run:
            assert run.run_id == 2
        done = subprocess.run(
            [sys.executable, "-m", "monocycle_nash.runmeta", "--db-url", own_server.url,
             "--result-root", str(tmp_path / "result"), "check", "--repair"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, "")
        assert "unrecorded-end" in done.stdout
        assert service.runs.get(1).status == "success"


def test_reading_from_a_stopped_server(tmp_path: Path, own_server: _OwnServer) -> None:
    """A listing after the server stopped: a lost connection, one line, in-process and CLI."""
    with RunSessionService.open(tmp_path, database_url=own_server.url) as service:
        with service.record("x"):
            pass
        own_server.stop()
        with pytest.raises(DatabaseConnectionLostError, match="cannot reconnect"):
            service.runs.list_runs()
    done = subprocess.run(
        [sys.executable, "-m", "monocycle_nash.runmeta", "--db-url", own_server.url, "list-runs"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    [line] = done.stderr.splitlines()
    assert line.startswith("runmeta: error: cannot open run database postgresql://")
    assert "No such file or directory" in line
