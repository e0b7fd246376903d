"""Who is running this process, and whether a recorded process is still alive.

A run stores its host name, pid and process start time (see
:class:`~monocycle_nash.runmeta.models.ProcessIdentity`). A later check (``reap``) asks
:func:`is_process_alive` whether that process still exists: the pid alone is not enough
because the system reuses pids, so the start time is compared too.

The exact start time comes from ``/proc`` (Linux): field 22 of ``/proc/<pid>/stat``,
the start in clock ticks since boot, qualified by the boot id. Elsewhere the start
time is unknown and liveness is answered from the pid alone where that is safe
(POSIX), or ``"unknown"`` (Windows, where probing a pid with ``os.kill`` would kill it).
No subprocess is spawned.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from monocycle_nash.runmeta.clock import JST
from monocycle_nash.runmeta.models import ProcessIdentity

__all__ = ["ProcessState", "current_host", "current_process", "has_exited", "is_process_alive"]

ProcessState = Literal["alive", "dead", "unknown"]
"""Answer of :func:`is_process_alive`."""

_PROC: Final = Path("/proc")
_EXITED: Final = frozenset({"Z", "X", "x"})
"""``/proc/<pid>/stat`` states of a process that exited but was not collected yet."""
_cache: dict[int, ProcessIdentity] = {}


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
