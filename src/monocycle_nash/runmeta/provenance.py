"""The provenance of a run: which code, interpreter and machine ran it, and how.

Written into meta.json at the run's start (``"provenance"``) and shown by ``runmeta
show-run``: the package version, the Python version and implementation, the platform,
the git commit and whether tracked files differed from it (from a
:class:`~monocycle_nash.runmeta.git_probe.GitState`), and the process's own command
line. What does not change within a process (the version, Python, the platform) is
computed once per process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from monocycle_nash.runmeta.git_probe import GitState
from monocycle_nash.text import printable

__all__ = [
    "DISTRIBUTION",
    "Provenance",
    "collect_provenance",
    "command_line",
    "format_provenance",
    "package_version",
]

DISTRIBUTION: Final = "monocycle-nash"
"""The distribution whose version a run records."""


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a run came from: code version, interpreter, machine, checkout, command line.

    ``package_version`` is ``None`` when the package is not installed (run from a
    source tree on ``sys.path``); ``git_commit`` is ``None`` outside a repository and
    ``git_dirty`` ``None`` when unknown (no commit, or neither the files nor ``git
    status`` could tell).
    """

    package_version: str | None
    python_version: str
    python_implementation: str
    platform: str
    git_commit: str | None
    git_dirty: bool | None
    argv: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the meta.json ``"provenance"`` object (``argv`` as a list)."""
        return {
            "package_version": self.package_version,
            "python_version": self.python_version,
            "python_implementation": self.python_implementation,
            "platform": self.platform,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "argv": list(self.argv),
        }


def _dist_info_version() -> str | None:
    """The version in the first ``monocycle_nash-*.dist-info`` on ``sys.path``, if any.

    What :func:`importlib.metadata.version` finds for an installed wheel or editable
    install, without importing :mod:`importlib.metadata` (about 40 ms).
    """
    prefix = DISTRIBUTION.replace("-", "_") + "-"
    for folder in sys.path:
        try:
            with os.scandir(folder or ".") as found:
                names = [
                    entry.name
                    for entry in found
                    if entry.name.lower().startswith(prefix) and entry.name.endswith(".dist-info")
                ]
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(folder or ".", name, "METADATA"), "rb") as handle:  # noqa: PTH118, PTH123
                    for line in handle:
                        if line.startswith(b"Version:"):
                            return line.removeprefix(b"Version:").strip().decode("utf-8")
                        if not line.strip():
                            break  # the headers end here
            except (OSError, UnicodeDecodeError):
                continue
    return None


@cache
def package_version() -> str | None:
    """The installed version of monocycle-nash, or ``None``; computed once per process."""
    found = _dist_info_version()
    if found is not None:
        return found
    from importlib import metadata  # noqa: PLC0415 - about 40 ms; rarely reached

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


@cache
def _interpreter() -> tuple[str, str, str]:
    """``(version, implementation, platform)`` of this process, computed once."""
    import platform  # noqa: PLC0415 - a run's start needs it once

    return (
        platform.python_version(),
        platform.python_implementation(),
        platform.platform(),
    )


def _storable(text: str) -> str:
    """``text`` as UTF-8 can store it: bytes of the command line that were not UTF-8
    (lone surrogates) become ``\\xNN``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # another lone surrogate
            raw = text.encode("utf-8", "backslashreplace")
        return raw.decode("utf-8", "backslashreplace")
    return text


def command_line() -> tuple[str, ...]:
    """The process's own command line, interpreter and its options included."""
    argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    return tuple(_storable(arg) for arg in argv)


def collect_provenance(git_state: GitState | None) -> Provenance:
    """Return the provenance of a run starting now in this process.

    ``git_state`` is the checkout's commit and dirtiness (``None``: neither known).
    """
    python_version, implementation, platform_name = _interpreter()
    return Provenance(
        package_version=package_version(),
        python_version=python_version,
        python_implementation=implementation,
        platform=platform_name,
        git_commit=None if git_state is None else git_state.commit,
        git_dirty=None if git_state is None else git_state.dirty,
        argv=command_line(),
    )


def _text(value: object) -> str | None:
    return printable(value) if isinstance(value, str) and value else None


def format_provenance(data: object) -> Iterator[str]:
    """Yield the ``show-run`` lines of a meta.json ``"provenance"`` object.

    Nothing for a run recorded without one (``null``, or not an object); a field
    missing or of the wrong type shows as ``-``. The commit is followed by
    ``(dirty)`` when tracked files differed from it, ``(dirty: unknown)`` when that
    could not be told.
    """
    if not isinstance(data, Mapping):
        return
    import shlex  # noqa: PLC0415 - show-run only

    version = _text(data.get("package_version"))
    python = " ".join(
        part
        for part in (_text(data.get("python_implementation")), _text(data.get("python_version")))
        if part
    )
    commit = _text(data.get("git_commit"))
    dirty = data.get("git_dirty")
    if commit is not None and dirty is not False:
        commit += " (dirty)" if dirty is True else " (dirty: unknown)"
    argv = data.get("argv")
    command = (
        printable(shlex.join(argv))
        if isinstance(argv, list) and argv and all(isinstance(arg, str) for arg in argv)
        else None
    )
    yield "provenance:"
    for label, value in (
        ("version", None if version is None else f"{DISTRIBUTION} {version}"),
        ("python", python or None),
        ("platform", _text(data.get("platform"))),
        ("git commit", commit),
        ("argv", command),
    ):
        yield f"  {label:<12}{value or '-'}"
