"""The running process: who it is, whether a recorded one lives, SIGTERM, console logs.

Who runs, and whether a recorded process is still alive
-------------------------------------------------------

Who is running this process, and whether a recorded process is still alive.

A run stores its host name, pid and process start time (see
:class:`~monocycle_nash.runmeta.models.ProcessIdentity`). A later check (``reap``) asks
:func:`is_process_alive` whether that process still exists: the pid alone is not enough
because the system reuses pids, so the start time is compared too.

The exact start time comes from ``/proc`` (Linux): field 22 of ``/proc/<pid>/stat``,
the start in clock ticks since boot, qualified by the boot id. Elsewhere the start
time is unknown and liveness is answered from the pid alone where that is safe
(POSIX), or ``"unknown"`` (Windows, where probing a pid with ``os.kill`` would kill it).
No subprocess is spawned.

Liveness of a run's recorded process, read from meta.json
---------------------------------------------------------

Whether the process that recorded a ``running`` run still lives, read from meta.json.

A run stores its process (host, pid, start time) under ``"process"`` in meta.json when
it starts. :func:`recorded_process` reads it back and :func:`recorded_process_state`
asks whether it still runs (``reap`` and ``check`` use them on the meta.json they have
read); :func:`run_process_state` answers ``"alive"``, ``"dead"`` or ``"unknown"`` for a
run folder: ``list-runs`` and ``show-run`` use it to show a ``running`` run whose
process is gone as ``running (dead)``. Only ``running`` rows are
ever asked about, so a listing of finished runs reads no meta.json.

SIGTERM as an exception
-----------------------

Turn SIGTERM into a :class:`RunTerminated` exception while a run is being recorded.

``kill <pid>``, a batch scheduler's time limit or ``docker stop`` send SIGTERM, whose
default action ends the process at once, with no chance to record the run's end. Inside
:func:`sigterm_raises`, SIGTERM instead raises ``RunTerminated`` in the main thread, so
``RunSessionService.record()`` (or your own ``except RunTerminated``) marks the run
``killed`` and the exception then ends the program as usual::

    with sigterm_raises():
        ctx = service.start("my script")
        try:
            work()
        except (KeyboardInterrupt, RunTerminated) as err:
            service.finish_killed(ctx, reason=repr(err))
            raise
        ...

Limits: Python runs signal handlers only in the main thread, between bytecodes. Outside
the main thread the context manager does nothing (it yields ``False``), and a process
blocked in a long C call sees the exception only when the call returns. Only the first
SIGTERM raises; later ones, while the end is being recorded, are ignored until the block
exits. SIGKILL cannot be caught at all: such runs stay ``running`` until a later check
finds their process gone. The previous handler is restored on exit.

The console copied into the logs
--------------------------------

Copy what a program prints into log files while still showing it on the console.

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

Several threads may capture at once (``record()`` from a notebook's thread pool): the
first capture installs one tee per stream for the whole process and the last one to
end puts the original ``sys.stdout``/``sys.stderr`` back, whatever the order. Each
write goes to the logs of the writing thread's own captures (nested ones included);
a thread that captures nothing writes to the logs of the only capturing thread when
there is one (the workers of a single recorded run), and to the console alone when
several threads capture (whose run it belongs to cannot be told).
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, Final, Literal, TextIO, cast

from monocycle_nash.runmeta.artifact_store import RunArtifactStore
from monocycle_nash.runmeta.clock import JST
from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    MetaCorruptError,
    MetaNotFoundError,
    RunTerminated,
)

__all__ = [
    "CapturedOutput",
    "ProcessState",
    "RunTerminated",
    "TeeStream",
    "capture_output",
    "current_host",
    "current_process",
    "deferred_signals",
    "has_exited",
    "is_process_alive",
    "recorded_process",
    "recorded_process_state",
    "run_process_state",
    "sigterm_raises",
]


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """Who is running a run: enough for a later check to tell if the process is gone.

    ``start_time`` is an exact, opaque token of the process start where the system
    offers one (Linux: ``"<boot id>:<start ticks>"`` from ``/proc``), else ``None``;
    compare it only for equality. ``started_at`` is the same moment, readable
    (+09:00, seconds), or ``None``.
    """

    host: str
    pid: int
    start_time: str | None
    started_at: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the meta.json form (``"process"``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProcessIdentity:
        """Rebuild the identity from its meta.json form."""
        start_time = data.get("start_time")
        started_at = data.get("started_at")
        return cls(
            host=str(data["host"]),
            pid=int(data["pid"]),
            start_time=None if start_time is None else str(start_time),
            started_at=None if started_at is None else str(started_at),
        )


# -- who runs, and whether a recorded process is still alive --------------------

ProcessState = Literal["alive", "dead", "unknown"]
"""Answer of :func:`is_process_alive`."""

_PROC: Final = Path("/proc")
_EXITED: Final = frozenset({"Z", "X", "x"})
"""``/proc/<pid>/stat`` states of a process that exited but was not collected yet."""
_cache: dict[int, ProcessIdentity] = {}
_MAX_PID: Final = 2**31 - 1
"""The largest pid a ``pid_t`` holds; a larger one in meta.json is damage."""


def current_host() -> str:
    """Return this machine's host name (no network lookup)."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket  # noqa: PLC0415 - only where os.uname is missing (Windows)

    return socket.gethostname()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def _boot_id() -> str | None:
    text = _read_text(_PROC / "sys" / "kernel" / "random" / "boot_id")
    return text.strip() if text else None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/<pid>/stat`` (after the command name), or None."""
    text = _read_text(_PROC / str(pid) / "stat")
    if not text:
        return None
    # The command name (field 2) is in parentheses and may itself hold ") ".
    closing = text.rfind(")")
    if closing < 0:
        return None
    return text[closing + 2 :].split()


def _start_token(boot_id: str | None, fields: list[str]) -> str | None:
    # Field 22 (starttime) is index 19 once fields 1 and 2 are removed.
    if len(fields) < 20:
        return None
    return f"{boot_id or 'boot'}:{fields[19]}"


def _started_at(fields: list[str]) -> str | None:
    stat = _read_text(_PROC / "stat")
    if stat is None or len(fields) < 20:
        return None
    boot_time = next(
        (int(line.split()[1]) for line in stat.splitlines() if line.startswith("btime ")), None
    )
    if boot_time is None:
        return None
    ticks_per_second = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    seconds = boot_time + int(fields[19]) / ticks_per_second
    return datetime.fromtimestamp(seconds, JST).isoformat(timespec="seconds")


def current_process() -> ProcessIdentity:
    """Return the host, pid and start time of this process (computed once per pid)."""
    pid = os.getpid()
    cached = _cache.get(pid)
    if cached is not None:
        return cached
    fields = _stat_fields(pid) if sys.platform.startswith("linux") else None
    if fields is None:
        identity = ProcessIdentity(current_host(), pid, None, None)
    else:
        identity = ProcessIdentity(
            current_host(), pid, _start_token(_boot_id(), fields), _started_at(fields)
        )
    _cache.clear()
    _cache[pid] = identity
    return identity


def has_exited(pid: int) -> bool | None:
    """Tell whether ``pid`` is a process that exited but was not collected yet (a zombie).

    ``None`` when ``/proc`` says nothing about it: no such pid, or not Linux.
    """
    fields = _stat_fields(pid) if sys.platform.startswith("linux") else None
    if not fields:
        return None
    return fields[0] in _EXITED


def _pid_exists(pid: int) -> ProcessState:
    if sys.platform == "win32":
        return "unknown"  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        return "alive"  # it exists, owned by someone else
    except OSError:
        return "unknown"
    return "alive"


def is_process_alive(host: str, pid: int, start_time: str | None) -> ProcessState:
    """Tell whether the process recorded as (host, pid, start_time) still runs.

    ``"dead"`` when it is on this host and the pid is gone, is a zombie, or now
    belongs to a process started at another time; ``"alive"`` when the pid exists
    (with the same start time, when both are known); ``"unknown"`` for another host,
    or when this system cannot tell.
    """
    if host != current_host():
        return "unknown"
    if pid <= 0:
        return "unknown"
    if sys.platform.startswith("linux") and _PROC.is_dir():
        return _linux_state(pid, start_time)
    return _pid_exists(pid)


def _linux_state(pid: int, start_time: str | None) -> ProcessState:
    fields = _stat_fields(pid)
    if fields is None:
        # No /proc entry: normally gone; if the pid still answers, /proc is hidden.
        state = _pid_exists(pid)
        return "unknown" if state == "alive" else state
    if fields and fields[0] in _EXITED:
        return "dead"  # exited; only its parent has not collected it yet
    if start_time is None:
        return "alive"
    return "alive" if _start_token(_boot_id(), fields) == start_time else "dead"


# -- liveness of a run's recorded process, read from meta.json --------------------


def recorded_process(meta: Mapping[str, Any]) -> ProcessIdentity | None:
    """Return the process stored in a meta.json, or ``None`` when absent or malformed."""
    process = meta.get("process")
    if not isinstance(process, dict):
        return None
    # Only what current_process() writes: a pid of 10**30, 1.5, "12" or true, or a
    # start time that is not a text, is damage, not a process to ask the system about.
    host, pid = process.get("host"), process.get("pid")
    if not (isinstance(host, str) and host) or type(pid) is not int or not 0 < pid <= _MAX_PID:
        return None
    if any(not isinstance(process.get(key), str | None) for key in ("start_time", "started_at")):
        return None
    return ProcessIdentity.from_dict(process)


def run_process_state(result_root: Path, run_id: int) -> ProcessState:
    """Tell whether the process recorded in ``result_root/<run_id>/meta.json`` still runs.

    ``"unknown"`` when meta.json is missing, unreadable or names no process, or when the
    process ran on another host.
    """
    try:
        meta = RunArtifactStore(result_root).read_meta(run_id)
    except (MetaNotFoundError, MetaCorruptError):
        return "unknown"
    return recorded_process_state(meta)


def recorded_process_state(meta: Mapping[str, Any]) -> ProcessState:
    """Tell whether the process stored in a meta.json still runs (``"unknown"`` if none)."""
    identity = recorded_process(meta)
    if identity is None:
        return "unknown"
    return is_process_alive(identity.host, identity.pid, identity.start_time)


# -- sigterm as an exception --------------------


@contextmanager
def sigterm_raises() -> Iterator[bool]:
    """While active, SIGTERM raises :class:`RunTerminated` in the main thread.

    Yields ``True`` when the handler is installed, ``False`` when it could not be
    (not the main thread, or no SIGTERM on this platform).
    """
    sigterm = getattr(signal, "SIGTERM", None)
    if sigterm is None or threading.current_thread() is not threading.main_thread():
        yield False
        return
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if raised:
            return  # the first one is being handled; do not interrupt the recording
        raised = True
        raise RunTerminated(signum)

    previous = signal.signal(sigterm, handler)
    try:
        yield True
    finally:
        signal.signal(sigterm, previous)


_DEFERRED: Final = tuple(
    signum for signum in (getattr(signal, "SIGTERM", None), signal.SIGINT) if signum is not None
)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGTERM and SIGINT while the block runs; deliver them when it ends.

    For a few statements that must not be split, such as committing a run's INSERT and
    binding its id: a signal arriving there stays pending, and once the block ends it
    is delivered to the handlers in place as usual (:func:`sigterm_raises` raises
    :class:`RunTerminated`, SIGINT ``KeyboardInterrupt``, the default action ends the
    process). The handlers are swapped for ones that remember the signal, and put back
    before it is raised again. (Blocking the signals with ``pthread_sigmask`` would be
    cheaper, but the kernel may hand a process signal to another thread, a library's
    native one included, whose Python handler then still runs in the main thread.)
    Main thread only (elsewhere nothing is held).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        if signum not in pending:
            pending.append(signum)

    previous: dict[int, Any] = {}
    try:
        for signum in _DEFERRED:
            if signal.getsignal(signum) is not None:  # None: installed from C, not ours
                previous[signum] = signal.signal(signum, hold)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending:
            signal.raise_signal(signum)


# -- the console copied into the logs --------------------


class CapturedOutput:
    """What a :func:`capture_output` block learns: the log writes that failed, in order."""

    __slots__ = ("failures",)

    def __init__(self) -> None:
        """Start with no failure."""
        self.failures: list[ArtifactWriteError] = []


class TeeStream(io.TextIOBase):
    """A text stream writing to a console stream and to a log file (``None``: none)."""

    def __init__(
        self,
        console: TextIO,
        log: IO[str] | None,
        log_path: Path | None = None,
        failures: list[ArtifactWriteError] | None = None,
    ) -> None:
        """Write to ``console`` and to ``log``; a failed log write goes to ``failures``."""
        super().__init__()
        self._console: TextIO | None = console
        self._console_stream = console
        self._log: IO[str] | None = log
        self._log_path = log_path if log_path is not None else Path(getattr(log, "name", "?"))
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
            except ValueError:
                # Closed by its capture's end while another thread wrote: that capture
                # is over, so the text is not part of its log.
                self._log = None
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


class _ThreadTee(TeeStream):
    """``sys.stdout`` or ``sys.stderr`` while any capture is open: routes by thread.

    A write goes to the innermost tee of the writing thread's captures (which writes
    to its log and passes the text on to the outer captures and the console), else
    to the only capturing thread's, else to the console alone.
    """

    def __init__(self, console: TextIO, stream: int) -> None:
        """Route writes of stream ``stream`` (0: stdout, 1: stderr); ``console`` below all."""
        super().__init__(console, None)
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` through the writing thread's capture, or to the console."""
        with _captures_lock:
            stack = _captures.get(threading.get_ident())
            if stack is None and len(_captures) == 1:
                stack = next(iter(_captures.values()))
            target = stack[-1][self._stream] if stack else None
        if target is None:
            return super().write(text)
        return target.write(text)


_captures_lock = threading.RLock()  # re-entrant: a signal handler may print
_captures: dict[int, list[tuple[TextIO, TextIO]]] = {}
"""The open captures of each thread (by thread id), outermost first: (stdout, stderr) tees."""
_originals: list[TextIO] = []
"""``sys.stdout`` and ``sys.stderr`` as they were when the first open capture began."""


def _open_log(path: Path) -> IO[str]:
    try:
        return path.open("a", encoding="utf-8", errors="backslashreplace")
    except OSError as err:
        raise ArtifactWriteError(path, err) from err


@contextmanager
def capture_output(stdout_log: str | Path, stderr_log: str | Path) -> Iterator[CapturedOutput]:
    """Tee ``sys.stdout`` into ``stdout_log`` and ``sys.stderr`` into ``stderr_log``.

    The logs are appended to and closed on exit; when the last open capture of the
    process ends, the streams it found are restored. Safe to use from several threads
    at once: each thread's output goes to its own captures' logs (see the module's
    notes). Raises :class:`ArtifactWriteError` when a log cannot be opened; later
    write failures are collected in the yielded :class:`CapturedOutput`.
    """
    out_path, err_path = Path(stdout_log), Path(stderr_log)
    out_log = _open_log(out_path)
    try:
        err_log = _open_log(err_path)
    except BaseException:
        out_log.close()
        raise
    captured = CapturedOutput()
    thread = threading.get_ident()
    with _captures_lock:
        if not _captures:
            _originals[:] = [sys.stdout, sys.stderr]
            sys.stdout, sys.stderr = _ThreadTee(sys.stdout, 0), _ThreadTee(sys.stderr, 1)
        stack = _captures.setdefault(thread, [])
        # A nested capture writes through the thread's current one, as the old tee did.
        below: Sequence[TextIO] = stack[-1] if stack else _originals
        tees = (
            cast(TextIO, TeeStream(below[0], out_log, out_path, captured.failures)),
            cast(TextIO, TeeStream(below[1], err_log, err_path, captured.failures)),
        )
        stack.append(tees)
    try:
        yield captured
    finally:
        with _captures_lock:
            stack.remove(tees)
            if not stack:
                del _captures[thread]
            if not _captures:
                sys.stdout, sys.stderr = _originals
                _originals.clear()
        for log, path in ((out_log, out_path), (err_log, err_path)):
            try:
                log.close()
            except OSError as err:
                # A log whose write failed fails again flushing its buffer: once is enough.
                if all(failure.path != path for failure in captured.failures):
                    captured.failures.append(ArtifactWriteError(path, err))
