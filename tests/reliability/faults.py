"""Run a Python script with injected file-system faults, in a real process.

``python faults.py RULE... -- SCRIPT ARG...`` installs the rules, then runs SCRIPT as
``__main__`` with ARG... as its arguments (``-- -m MODULE ARG...`` runs a module). A
rule is ``KIND:SUBSTRING:ERRNO[:NTH]``:

- ``write``: files opened for writing whose path contains SUBSTRING fail with ERRNO
  (a name from :mod:`errno`, e.g. ``ENOSPC``) on every ``write``, from the NTH such
  file on (default 1), as a full disk or a failing device does;
- ``mkdir``: ``os.mkdir`` of a path containing SUBSTRING fails with ERRNO.

Only Python-level calls are affected (SQLite writes through its own C code).
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import runpy
import sys
from pathlib import Path
from typing import Any

_real_open = io.open
_real_mkdir = os.mkdir


class _FailingFile:
    """A file opened for writing whose writes fail like a full or broken disk."""

    def __init__(self, handle: Any, code: int, path: str) -> None:
        self._handle = handle
        self._code = code
        self._path = path

    def _fail(self, *_: object) -> int:
        raise OSError(self._code, os.strerror(self._code), self._path)

    write = _fail
    writelines = _fail

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *_: object) -> None:
        self._handle.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _install(rules: list[str]) -> None:
    write_rules: list[list[Any]] = []
    mkdir_rules: list[tuple[str, int]] = []
    for rule in rules:
        kind, substring, name, *nth = rule.split(":")
        code = getattr(errno, name)
        if kind == "write":
            write_rules.append([substring, code, int(nth[0]) if nth else 1, 0])
        elif kind == "mkdir":
            mkdir_rules.append((substring, code))
        else:
            raise SystemExit(f"faults.py: unknown rule {rule!r}")

    def faulty_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = _real_open(file, mode, *args, **kwargs)
        if isinstance(file, int) or not set(mode) & set("wax+"):
            return handle
        path = os.fspath(file)
        for rule in write_rules:
            if rule[0] in str(path):
                rule[3] += 1
                if rule[3] >= rule[2]:
                    return _FailingFile(handle, rule[1], str(path))
        return handle

    def faulty_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        for substring, code in mkdir_rules:
            if substring in str(os.fspath(path)):
                raise OSError(code, os.strerror(code), str(path))
        _real_mkdir(path, *args, **kwargs)

    builtins.open = faulty_open
    io.open = faulty_open
    os.mkdir = faulty_mkdir


def main() -> None:
    """Install the rules given before ``--`` and run the script after it."""
    split = sys.argv.index("--")
    _install(sys.argv[1:split])
    script, *arguments = sys.argv[split + 1 :]
    if script == "-m":
        module, *arguments = arguments
        sys.argv = [module, *arguments]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    sys.argv = [script, *arguments]
    sys.path.insert(0, str(Path(script).resolve().parent))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
