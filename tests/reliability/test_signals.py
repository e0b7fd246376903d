"""SIGTERM in any script that uses the library: the run is recorded killed, handlers restored."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monocycle_nash.runmeta.artifact_store import meta_mismatches
from tests.reliability.helpers import HERE, read_meta, row

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        pytest.param("record", "terminated; recorded by record()", id="record"),
        pytest.param("manual", "terminated; recorded by hand (installed=True)", id="manual"),
    ],
)
def test_sigterm_is_recorded_killed_and_the_previous_handler_returns(
    tmp_path: Path, mode: str, said: str
) -> None:
    """A real SIGTERM ends the run killed (row and meta.json); the script's handler is back."""
    root = tmp_path / "project"
    root.mkdir()
    flag = tmp_path / "run-id"
    process = subprocess.Popen(
        [sys.executable, str(HERE / "worker_sigterm.py"), str(root), str(flag), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not flag.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.005)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 143, err
    assert out.splitlines() == [said, "own handler back: True", "own handler ran"]
    assert err == ""
    run_id = int(flag.read_text(encoding="utf-8"))
    record = row(root, run_id)
    assert record.status == "killed"
    assert record.ended_at is not None
    meta = read_meta(root, run_id)
    assert meta_mismatches(meta, record) == []
    assert "signal 15" in meta["reason"]
