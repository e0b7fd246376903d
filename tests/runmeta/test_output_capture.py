"""Tests of the tee of sys.stdout/sys.stderr into log files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monocycle_nash.runmeta.errors import ArtifactWriteError
from monocycle_nash.runmeta.process import capture_output


def test_output_goes_to_console_and_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text printed inside is shown and logged; streams are restored after."""
    out_log, err_log = tmp_path / "stdout.log", tmp_path / "stderr.log"
    before = (sys.stdout, sys.stderr)
    with capture_output(out_log, err_log):
        print("hello 世界")
        sys.stderr.write("warn\n")
        assert sys.stdout.encoding
    assert (sys.stdout, sys.stderr) == before
    assert out_log.read_text(encoding="utf-8") == "hello 世界\n"
    assert err_log.read_text(encoding="utf-8") == "warn\n"
    assert capsys.readouterr() == ("hello 世界\n", "warn\n")


def test_logs_are_appended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second capture adds to the existing logs."""
    out_log, err_log = tmp_path / "stdout.log", tmp_path / "stderr.log"
    for word in ("one", "two"):
        with capture_output(out_log, err_log):
            print(word)
    assert out_log.read_text() == "one\ntwo\n"
    capsys.readouterr()


def test_streams_restored_after_an_exception(tmp_path: Path) -> None:
    """An exception inside still restores the streams."""
    before = (sys.stdout, sys.stderr)
    with pytest.raises(RuntimeError), capture_output(tmp_path / "o", tmp_path / "e"):
        raise RuntimeError("x")
    assert (sys.stdout, sys.stderr) == before


def test_unopenable_log_is_a_typed_error(tmp_path: Path) -> None:
    """A log in a missing folder raises ArtifactWriteError and changes no stream."""
    before = (sys.stdout, sys.stderr)
    with pytest.raises(ArtifactWriteError), capture_output(tmp_path / "o", tmp_path / "no" / "e"):
        pass  # pragma: no cover
    assert (sys.stdout, sys.stderr) == before
