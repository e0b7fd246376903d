"""Tests of the process identity recorded with each run and the liveness check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monocycle_nash.runmeta.process import (
    current_host,
    current_process,
    has_exited,
    is_process_alive,
    run_process_state,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")


def test_current_process_describes_this_process() -> None:
    """Host and pid are this process's; the identity is stable within the process."""
    identity = current_process()
    assert identity.host == current_host()
    assert identity == current_process()
    assert is_process_alive(identity.host, identity.pid, identity.start_time) == "alive"


@linux_only
def test_start_time_is_known_on_linux() -> None:
    """On Linux the start time token and a readable start time are recorded."""
    identity = current_process()
    assert identity.start_time is not None and ":" in identity.start_time
    assert identity.started_at is not None and identity.started_at.endswith("+09:00")


@linux_only
def test_reused_pid_is_not_mistaken_for_the_run() -> None:
    """The same pid with another start time counts as dead."""
    identity = current_process()
    assert is_process_alive(identity.host, identity.pid, "other-boot:1") == "dead"


def test_other_host_is_unknown() -> None:
    """A process on another machine cannot be judged from here."""
    identity = current_process()
    assert is_process_alive(identity.host + "-elsewhere", identity.pid, None) == "unknown"


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_killed_process_is_dead() -> None:
    """A child killed with SIGKILL is reported dead, before and after it is collected."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = current_host()
        assert is_process_alive(host, child.pid, None) == "alive"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert is_process_alive(host, child.pid, None) == "dead"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@linux_only
def test_zombie_is_dead() -> None:
    """A child that exited but was not collected yet is already dead."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # Wait for the exit without collecting the child: it stays a zombie.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert is_process_alive(current_host(), child.pid, None) == "dead"
        assert has_exited(child.pid) is True
    finally:
        child.wait()
    assert has_exited(child.pid) is None  # collected: /proc knows the pid no more


@linux_only
def test_running_process_has_not_exited() -> None:
    """This process is not a zombie."""
    assert has_exited(os.getpid()) is False


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="no-meta"),
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b'{"process": null}', id="no-process"),
    ],
)
def test_run_process_state_is_unknown_without_a_readable_process(
    tmp_path: Path, content: bytes | None
) -> None:
    """A run folder whose meta.json is missing, unreadable or names no process is unknown."""
    (tmp_path / "7").mkdir()
    if content is not None:
        (tmp_path / "7" / "meta.json").write_bytes(content)
    assert run_process_state(tmp_path, 7) == "unknown"


def test_run_process_state_of_this_process_is_alive(tmp_path: Path) -> None:
    """A meta.json naming this process answers alive."""
    (tmp_path / "7").mkdir()
    meta = {"process": current_process().to_dict()}
    (tmp_path / "7" / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    assert run_process_state(tmp_path, 7) == "alive"
