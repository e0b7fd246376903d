"""``runmeta ui`` on the command line: options, refusals, the warning, Ctrl-C."""

from __future__ import annotations

import http.client
import io
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta.cli import main
from monocycle_nash.runmeta.ui import server as ui_server
from tests.runmeta.ui_support import make_history


@pytest.mark.parametrize(
    "port",
    [
        pytest.param("65536", id="too-large"),
        pytest.param("-1", id="negative"),
        pytest.param("x", id="word"),
    ],
)
def test_a_bad_port_is_a_usage_error(capsys: pytest.CaptureFixture[str], port: str) -> None:
    """--port takes 0 to 65535: anything else exits 2 before serving."""
    with pytest.raises(SystemExit) as stopped:
        main(["ui", "--port", port])
    assert stopped.value.code == 2
    assert "is not a port" in capsys.readouterr().err


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port of 127.0.0.1 that another socket listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.backends("sqlite")  # refused before any database is opened
def test_a_taken_port_is_one_error_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], taken_port: int
) -> None:
    """A port in use: exit 1, one 'runmeta: error: cannot serve on ...' line, nothing on stdout."""
    code = main(["ui", "--port", str(taken_port)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[-1].startswith(f"runmeta: error: cannot serve on 127.0.0.1:{taken_port}: ")
    assert "Traceback" not in err


@pytest.mark.backends("sqlite")  # refused before any database is opened
def test_an_unknown_host_is_one_error_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A host name that does not resolve: exit 1, one error line."""
    code = main(["ui", "--host", "no-such-host.invalid"])
    assert code == 1
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .startswith("runmeta: error: cannot serve on no-such-host.invalid")
    )


def test_an_address_that_is_not_loopback_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served beyond this machine: a warning line first, and any Host header is answered."""
    monkeypatch.setattr(ui_server, "_is_loopback", lambda address: False)

    def stop_at_once(self: ui_server.UiServer, poll_interval: float = 0.5) -> None:
        assert self.host_allowed("anything.example:80")
        raise KeyboardInterrupt

    monkeypatch.setattr(ui_server.UiServer, "serve_forever", stop_at_once)
    out, err = io.StringIO(), io.StringIO()
    connect = ui_server.sqlite_connector(tmp_path / "none.db")
    code = ui_server.serve(connect, tmp_path / "result", db_label="none.db", out=out, err=err)
    assert code == 0
    assert "runmeta: warning: serving on 127.0.0.1, not a loopback address" in err.getvalue()
    assert out.getvalue().startswith("runmeta ui: serving http://127.0.0.1:")
    assert out.getvalue().endswith("\nrunmeta ui: stopped\n")


@pytest.mark.backends("sqlite")  # a file that is not SQLite
def test_a_database_of_another_program_is_refused_before_serving(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not a run database: exit 1 with runmeta's own message; nothing served."""
    (workspace / "other.db").write_bytes(b"not a database at all, just text" * 10)
    code = main(["ui", "--db-path", "other.db"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("runmeta: error: ")


@pytest.mark.slow
def test_ctrl_c_stops_the_server_cleanly(tmp_path: Path) -> None:
    """A real process: it prints its address, answers, and stops on SIGINT with exit 0."""
    history = make_history(tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monocycle_nash.runmeta",
            "ui",
            "--db-path",
            str(history.db_path),
            "--result-root",
            str(history.result_root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("runmeta ui: serving http://127.0.0.1:")
        port = int(first.split("http://127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/runs/1")
        response = connection.getresponse()
        assert (response.status, b"Run 1" in response.read()) == (200, True)
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert out.strip() == "runmeta ui: stopped"
    assert err == ""
