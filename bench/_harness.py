"""Shared helpers of the benchmarks: timing, the machine, tables, temp folders.

Not a benchmark itself; the scripts beside it (``recording.py``, ``listing.py``,
``solver.py``, ``analyses.py``, ``end_to_end.py``) import it (run them as scripts, so
that ``bench/`` is on ``sys.path``).
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

__all__ = [
    "best_time",
    "child_env",
    "cpu_model",
    "load_average",
    "machine_lines",
    "make_git_repo",
    "markdown_table",
    "median",
    "warm_bytecode",
]

_T = TypeVar("_T")


def best_time(action: Callable[[], _T], repeat: int) -> tuple[float, _T]:
    """Run ``action`` ``repeat`` times; return the fastest wall time and the last result."""
    best = float("inf")
    result: _T | None = None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    return float(statistics.median(values))


def cpu_model() -> str:
    """The CPU model named in ``/proc/cpuinfo`` (or ``platform.processor()``)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``0.52 0.61 0.70``."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def machine_lines() -> list[str]:
    """Lines describing where the figures come from: CPU, cores, Python, load."""
    return [
        f"machine: {platform.machine()}, CPU {cpu_model()!r}, nproc {os.cpu_count()}",
        f"python: {platform.python_implementation()} {platform.python_version()}"
        f" ({sys.executable}), SQLite {sqlite3.sqlite_version}",
        f"system: {platform.system()} {platform.release()}",
        f"load average (1, 5, 15 min) at start: {load_average()}",
    ]


def child_env() -> dict[str, str]:
    """Environment for timed child processes: this one without PYTHONDONTWRITEBYTECODE.

    With the variable set, every process would compile the package's sources again
    instead of loading the cached bytecode that a real installation has.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_bytecode(modules: Sequence[str]) -> None:
    """Import ``modules`` once in a child process so their bytecode cache is written."""
    code = "; ".join(f"import {name}" for name in modules)
    subprocess.run([sys.executable, "-c", code], env=child_env(), check=True)


def make_git_repo(folder: Path) -> str:
    """``git init`` a throwaway repository in ``folder`` with one commit; return its hash."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=folder, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    (folder / "README").write_text("benchmark repository\n", encoding="utf-8")
    (folder / ".gitignore").write_text("result/\n.runmeta/\n", encoding="utf-8")
    git("add", "README", ".gitignore")
    git("commit", "-q", "-m", "first")
    return git("rev-parse", "HEAD")


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None
) -> list[str]:
    """A Markdown table; ``align`` has one ``l`` or ``r`` per column (default: the first
    column left, the others right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    marks = ["---:" if side == "r" else "---" for side in align]
    lines = [f"| {' | '.join(headers)} |", f"|{'|'.join(marks)}|"]
    lines.extend(f"| {' | '.join(row)} |" for row in rows)
    return lines
