"""Progress of an experiment on stderr: a line rewritten in place on a terminal (not in
the log), nothing of it when stderr is not a terminal, and a log line only every
``LOG_INTERVAL`` seconds."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from monocycle_nash.app.experiments import LOG_INTERVAL
from tests.app.main_process import MAIN
from tests.app.test_experiment_runs import write_config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal"),
]

# About 1.5 s in one process: several updates of the terminal line, no log line.
EXPERIMENT = {"kind": "team_spectrum", "trials": 14, "seed": 2, "character_count": 16}


def _run_on_terminal(config: Path, root: Path) -> tuple[int, bytes]:
    """Run the main job with stderr on a pseudo-terminal; return its exit code and
    everything it wrote there."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, str(MAIN), str(config), "--root", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=follower,
        )
        os.close(follower)
        written = bytearray()
        while True:
            try:
                block = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not block:
                break
            written += block
        return process.wait(), bytes(written)
    finally:
        os.close(leader)


def test_progress_is_a_line_rewritten_on_a_terminal_and_stays_out_of_the_log(
    tmp_path: Path,
) -> None:
    """On a terminal: ``\\r``-rewritten lines with done/total, rate and time left, the
    line cleared at the end; the run's stderr.log holds none of it (the run is shorter
    than LOG_INTERVAL)."""
    assert LOG_INTERVAL >= 5
    config = write_config(tmp_path, {**EXPERIMENT, "workers": 1})
    code, written = _run_on_terminal(config, tmp_path)
    assert code == 0
    text = written.decode()
    assert "\rprogress: " in text
    assert f"/{EXPERIMENT['trials']} trials" in text
    assert "per second" in text
    assert "left" in text
    assert text.rstrip("\r\n").endswith("\r\x1b[K")  # the line is cleared when it ends
    log = (tmp_path / "result" / "1" / "logs" / "stderr.log").read_text()
    assert "progress:" not in log


def test_no_progress_line_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    """Piped stderr (a batch job, a log file): no line rewritten in place."""
    config = write_config(tmp_path, {**EXPERIMENT, "trials": 4, "workers": 1})
    done = subprocess.run(
        [sys.executable, str(MAIN), str(config), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "progress:" not in done.stderr
    assert "\r" not in done.stderr
