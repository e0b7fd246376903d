"""The command line a run records: what the user typed, shell-quoted."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["PROGRAM", "invoked_command", "storable"]

PROGRAM = "monocycle-nash"


def invoked_command(argv: Sequence[str] | None = None) -> str:
    """Return the shell-quoted command line of this process.

    With ``argv`` (an in-process call of ``main``) it is ``monocycle-nash ARGS``.
    Otherwise it is the process's own command line with the interpreter shortened to its
    name (``python src/main.py --note x``, ``python -m monocycle_nash.app``), or just the
    console script's name (``monocycle-nash --note x``).
    """
    if argv is not None:
        return shlex.join([PROGRAM, *argv])
    original = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    interpreter, rest = Path(original[0]).name, original[1:]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    # A console script: the interpreter runs a launcher that lives beside it.
    if (
        script is not None
        and rest
        and rest[0] == sys.argv[0]
        and script.parent.resolve() == Path(sys.executable).parent.resolve()
    ):
        return shlex.join([script.name, *rest[1:]])
    return shlex.join([interpreter, *rest])


def storable(text: str) -> str:
    """Return ``text`` as UTF-8 can store it: bytes that were not UTF-8 become ``\\xNN``.

    Python hands undecodable bytes of the command line over as lone surrogates
    (``surrogateescape``), which neither SQLite nor a JSON file in UTF-8 can hold.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")  # the command line's bytes back
        except UnicodeEncodeError:  # another lone surrogate, e.g. from a notebook
            raw = text.encode("utf-8", "backslashreplace")
        return raw.decode("utf-8", "backslashreplace")
    return text
