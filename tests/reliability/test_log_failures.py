"""A log on a full device (/dev/full): printing goes on, the failure is kept, not lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monocycle_nash.runmeta.process import capture_output

FULL = Path("/dev/full")

pytestmark = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")


def test_full_device_log_keeps_console_and_records_the_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writes to a log on /dev/full fail with ENOSPC: the console gets all, failures are kept."""
    with capture_output(FULL, tmp_path / "stderr.log") as captured:
        print("first")
        print("second")
        sys.stderr.write("to the good log\n")
    assert capsys.readouterr() == ("first\nsecond\n", "to the good log\n")
    assert (tmp_path / "stderr.log").read_text(encoding="utf-8") == "to the good log\n"
    (failure,) = captured.failures  # logging stopped after the first failed write
    assert failure.path == FULL
    assert "No space left on device" in str(failure)
