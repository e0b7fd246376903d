"""Copy what a program prints into log files while still showing it on the console.

Inside :func:`capture_output`, ``sys.stdout`` and ``sys.stderr`` are replaced by tees
that write each text to the previous stream and, flushed at once, to a log file (UTF-8,
appended). What bypasses ``sys.stdout``/``sys.stderr`` is not captured: output of child
processes, writes to file descriptors 1 and 2, and bytes written to ``.buffer``.

A console that goes away (a closed pipe, as in ``program | head -1``) is not an error of
the run: the tee stops writing to it and the log keeps everything.

A log write that fails (disk full, I/O error) never breaks the program's own printing:
that log stops, the console still gets everything, and the failure is kept in the
:class:`CapturedOutput` that the block receives. ``RunSessionService.record()`` then
ends the run ``fail`` and raises the failure, because a run whose logs are incomplete
did not complete its record.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

from monocycle_nash.runmeta.errors import ArtifactWriteError

__all__ = ["CapturedOutput", "TeeStream", "capture_output"]


class CapturedOutput:
    """What a :func:`capture_output` block learns: the log writes that failed, in order."""

    __slots__ = ("failures",)

    def __init__(self) -> None:
        """Start with no failure."""
        self.failures: list[ArtifactWriteError] = []


class TeeStream(io.TextIOBase):
    """A text stream writing to a console stream and to a log file."""

    def __init__(
        self,
        console: TextIO,
        log: IO[str],
        log_path: Path,
        failures: list[ArtifactWriteError] | None = None,
    ) -> None:
        """Write to ``console`` and to ``log``; a failed log write goes to ``failures``."""
        super().__init__()
        self._console: TextIO | None = console
        self._console_stream = console
        self._log: IO[str] | None = log
        self._log_path = log_path
        self._failures = failures if failures is not None else []

    def write(self, text: str) -> int:
        """Write ``text`` to the console stream and to the log."""
        console = self._console
        if console is not None:
            try:
                console.write(text)
            except BrokenPipeError:
                self._console = None
        log = self._log
        if log is not None:
            try:
                log.write(text)
                log.flush()
            except OSError as err:
                # A full disk must not crash the program mid-print: stop logging, keep
                # the failure for whoever records the run.
                self._log = None
                self._failures.append(ArtifactWriteError(self._log_path, err))
        return len(text)

    def flush(self) -> None:
        """Flush the console stream (a closed pipe is dropped, not raised)."""
        console = self._console
        if console is not None:
            try:
                console.flush()
            except BrokenPipeError:
                self._console = None

    def isatty(self) -> bool:
        """Answer for the console stream."""
        return self._console_stream.isatty()

    def writable(self) -> bool:
        """A tee is always writable."""
        return True

    def fileno(self) -> int:
        """The console's descriptor (writes through it are not logged)."""
        return self._console_stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The console's encoding."""
        return str(getattr(self._console_stream, "encoding", "utf-8") or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        """The console's error handler."""
        return getattr(self._console_stream, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._console_stream, name)


def _open_log(path: Path) -> IO[str]:
    try:
        return path.open("a", encoding="utf-8", errors="backslashreplace")
    except OSError as err:
        raise ArtifactWriteError(path, err) from err


@contextmanager
def capture_output(stdout_log: str | Path, stderr_log: str | Path) -> Iterator[CapturedOutput]:
    """Tee ``sys.stdout`` into ``stdout_log`` and ``sys.stderr`` into ``stderr_log``.

    The logs are appended to; the previous streams are restored and the logs closed on
    exit. Raises :class:`ArtifactWriteError` when a log cannot be opened; later write
    failures are collected in the yielded :class:`CapturedOutput`.
    """
    out_path, err_path = Path(stdout_log), Path(stderr_log)
    out_log = _open_log(out_path)
    try:
        err_log = _open_log(err_path)
    except BaseException:
        out_log.close()
        raise
    captured = CapturedOutput()
    previous_out, previous_err = sys.stdout, sys.stderr
    sys.stdout = TeeStream(previous_out, out_log, out_path, captured.failures)
    sys.stderr = TeeStream(previous_err, err_log, err_path, captured.failures)
    try:
        yield captured
    finally:
        sys.stdout, sys.stderr = previous_out, previous_err
        for log, path in ((out_log, out_path), (err_log, err_path)):
            try:
                log.close()
            except OSError as err:
                # A log whose write failed fails again flushing its buffer: once is enough.
                if all(failure.path != path for failure in captured.failures):
                    captured.failures.append(ArtifactWriteError(path, err))
