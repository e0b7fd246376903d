"""Helpers of the experiment and sweep tests (not a test module).

Trial functions that worker processes can unpickle (importable by name, unlike a test's
closure): they run the real ``run_trial`` except for ``BAD_TRIAL``, which raises or ends
its process (at once, or when the test says so). And the main job started as a terminal
starts it (its own process group, Ctrl-C not ignored), with a look at its process tree
through ``/proc`` to check that no worker outlives the run (psutil is not a dependency).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from monocycle_nash.experiments import ExperimentSettings, run_trial
from monocycle_nash.game import Game
from tests.app.main_process import MAIN

__all__ = [
    "BAD_TRIAL",
    "CRASH_EXIT_CODE",
    "HANDSHAKE",
    "Process",
    "alive",
    "descendants",
    "exit_on_bad_trial",
    "exit_on_go",
    "finished_lines",
    "raise_on_bad_trial",
    "start_main_job",
    "survivors",
    "wait_for_lines",
]

BAD_TRIAL = 3
"""The trial index the trial functions below fail on."""
CRASH_EXIT_CODE = 9
BAD_TRIAL_MESSAGE = "trial three is broken"


def raise_on_bad_trial(
    settings: ExperimentSettings, index: int, fixed_game: Game | None
) -> dict[str, object]:
    """``run_trial``, but trial ``BAD_TRIAL`` raises a ``ValueError`` of two lines."""
    if index == BAD_TRIAL:
        raise ValueError(f"{BAD_TRIAL_MESSAGE}\nsecond line")
    return run_trial(settings, index, fixed_game)


def exit_on_bad_trial(
    settings: ExperimentSettings, index: int, fixed_game: Game | None
) -> dict[str, object]:
    """``run_trial``, but trial ``BAD_TRIAL`` ends its process at once (a crash)."""
    if index == BAD_TRIAL:
        os._exit(CRASH_EXIT_CODE)
    return run_trial(settings, index, fixed_game)


HANDSHAKE = "MONOCYCLE_NASH_TEST_HANDSHAKE"
"""Environment variable naming the folder of ``exit_on_go``'s file (workers inherit the
environment of the process that spawns them)."""


def exit_on_go(
    settings: ExperimentSettings, index: int, fixed_game: Game | None
) -> dict[str, object]:
    """``run_trial``, but trial ``BAD_TRIAL`` waits for the file ``<folder>/go`` to exist,
    then ends its process at once: the test decides when the pool breaks."""
    if index == BAD_TRIAL:
        go = Path(os.environ[HANDSHAKE]) / "go"
        while not go.exists():
            time.sleep(0.001)
        os._exit(CRASH_EXIT_CODE)
    return run_trial(settings, index, fixed_game)


# --- processes ----------------------------------------------------------------------------

WAIT_LIMIT = 60.0
"""Seconds a test waits for a main job to get somewhere before it gives up (a hang)."""


def _default_sigint() -> None:
    # A shell may start background jobs with SIGINT ignored; Ctrl-C is the point here.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_main_job(root: Path, *args: str) -> subprocess.Popen[str]:
    """Start ``python src/main.py ARGS --root ROOT`` in a session (and process group) of
    its own, as a terminal starts a command: ``os.killpg(pid, SIGINT)`` is Ctrl-C."""
    return subprocess.Popen(
        [sys.executable, str(MAIN), *args, "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,  # noqa: PLW1509 - only restores a signal disposition
    )


def finished_lines(path: Path) -> list[str]:
    """The lines of ``path`` that end with a newline (none when it does not exist yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return text.splitlines(keepends=True)[: text.count("\n")]


def wait_for_lines(process: subprocess.Popen[str], path: Path, count: int) -> None:
    """Wait until ``path`` has ``count`` finished lines while ``process`` runs."""
    deadline = time.monotonic() + WAIT_LIMIT
    while len(finished_lines(path)) < count:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the main job ended early ({process.returncode}): {out}{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not reach {count} lines")
        time.sleep(0.005)


@dataclass(frozen=True, slots=True)
class Process:
    """A process seen in ``/proc``: its pid, start time (clock ticks after boot: tells a
    reused pid apart) and command line."""

    pid: int
    start_ticks: int
    command: str


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[Process]:
    """Every live descendant of process ``pid`` (children, their children, ...)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[Process] = []
    queue = [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            fields = _stat(child)
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if fields is not None:
                found.append(Process(child, int(fields[19]), command.decode(errors="replace")))
                queue.append(child)
    return found


def alive(process: Process) -> bool:
    """Whether ``process`` still runs (a zombie has ended; a reused pid is another process)."""
    fields = _stat(process.pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == process.start_ticks


def survivors(processes: list[Process], *, within: float) -> list[Process]:
    """The processes still alive after waiting up to ``within`` seconds for them to end."""
    deadline = time.monotonic() + within
    while any(alive(process) for process in processes) and time.monotonic() < deadline:
        time.sleep(0.01)
    return [process for process in processes if alive(process)]
