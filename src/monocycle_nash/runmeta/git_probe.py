"""Read the commit checked out in a git repository, without spawning ``git``.

Handles a normal ``.git`` folder, a ``.git`` file (worktrees, submodules) with its
``commondir``, symbolic ``HEAD`` (a branch, loose or packed in ``packed-refs``) and a
detached ``HEAD``. Outside a repository, in one without commits, or with a ref store
this reader does not know (``reftable``), the answer is ``None``: the run is recorded
without a commit rather than failing. Every run calls it, so it works on plain strings
and ``os.stat`` (a few microseconds) rather than ``pathlib``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

__all__ = ["GitCommitProbe", "find_git_dir", "read_git_commit"]

_HEX: Final = frozenset("0123456789abcdef")
_MAX_SYMREF_DEPTH: Final = 5


def _is_sha(text: str) -> bool:
    return len(text) in {40, 64} and _HEX.issuperset(text)


def _read_line(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123
            return handle.readline().strip()
    except OSError:
        return None


def _find(start: str) -> str | None:
    here = os.path.abspath(start)  # noqa: PTH100 - strings on the hot path
    while True:
        candidate = os.path.join(here, ".git")  # noqa: PTH118
        try:
            mode = os.stat(candidate).st_mode  # noqa: PTH116
        except OSError:
            mode = 0
        if stat.S_ISDIR(mode):
            return candidate
        if stat.S_ISREG(mode):
            line = _read_line(candidate)
            if line and line.startswith("gitdir:"):
                return os.path.join(here, line.removeprefix("gitdir:").strip())  # noqa: PTH118
            return None
        parent = os.path.dirname(here)  # noqa: PTH120
        if parent == here:
            return None
        here = parent


def find_git_dir(start: str | Path) -> Path | None:
    """Return the git folder of the repository holding ``start``, or ``None``.

    Walks up from ``start``; a ``.git`` file (``gitdir: <path>``) is followed.
    """
    found = _find(os.fspath(start))
    return None if found is None else Path(found)


def _common_dir(git_dir: str) -> str:
    line = _read_line(os.path.join(git_dir, "commondir"))  # noqa: PTH118
    if not line:
        return git_dir
    return os.path.join(git_dir, line)  # noqa: PTH118 - an absolute line wins


def _packed_ref(common: str, ref: str) -> str | None:
    try:
        with open(os.path.join(common, "packed-refs"), encoding="utf-8") as handle:  # noqa: PTH118, PTH123
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        if not line or line[0] in "#^":
            continue
        sha, _, name = line.partition(" ")
        if name.strip() == ref:
            return sha
    return None


def _resolve_ref(git_dir: str, common: str, ref: str, read: list[str] | None = None) -> str | None:
    for _ in range(_MAX_SYMREF_DEPTH):
        # Per-worktree refs live in the git dir; branches and tags in the common dir.
        candidates = [os.path.join(git_dir, ref)]  # noqa: PTH118
        if common != git_dir:
            candidates.append(os.path.join(common, ref))  # noqa: PTH118
        candidates.append(os.path.join(common, "packed-refs"))  # noqa: PTH118
        if read is not None:
            read.extend(candidates)
        line = _read_line(candidates[0])
        if line is None and common != git_dir:
            line = _read_line(candidates[1])
        if line is None:
            line = _packed_ref(common, ref)
        if not line:
            return None  # a branch with no commit yet
        if line.startswith("ref:"):
            ref = line.removeprefix("ref:").strip()
            continue
        return line if _is_sha(line) else None
    return None


def _commit_in(git_dir: str, read: list[str] | None = None) -> str | None:
    head_path = os.path.join(git_dir, "HEAD")  # noqa: PTH118
    if read is not None:
        read.append(head_path)
    head = _read_line(head_path)
    if not head:
        return None
    if _is_sha(head):
        return head  # detached HEAD
    if not head.startswith("ref:"):
        return None
    common = _common_dir(git_dir)
    return _resolve_ref(git_dir, common, head.removeprefix("ref:").strip(), read)


def read_git_commit(start: str | Path) -> str | None:
    """Return the full hash of the commit checked out at ``start``, or ``None``."""
    git_dir = _find(os.fspath(start))
    return None if git_dir is None else _commit_in(git_dir)


def _signature(paths: list[str]) -> tuple[tuple[int, int, int], ...] | None:
    signature = []
    for path in paths:
        try:
            info = os.stat(path)  # noqa: PTH116
        except FileNotFoundError:
            signature.append((0, 0, -1))
        except OSError:
            return None
        else:
            signature.append((info.st_ino, info.st_mtime_ns, info.st_size))
    return tuple(signature)


_Signature = tuple[tuple[int, int, int], ...]


class GitCommitProbe:
    """:func:`read_git_commit` for one folder, remembering the answer between calls.

    The answer is reused while every file it was read from (``HEAD``, the branch's
    ref file, ``packed-refs``) keeps its inode, modification time and size; git
    replaces these files by renaming, so a commit or a checkout changes the inode.
    Checking costs a few ``stat`` calls instead of opening and reading the files.
    Outside a repository the folders are searched again on every call.
    """

    __slots__ = ("_cached", "_start")

    def __init__(self, start: str | Path) -> None:
        self._start = os.fspath(start)
        self._cached: tuple[list[str], _Signature, str | None] | None = None

    def __call__(self) -> str | None:
        """Return the commit checked out at the folder, or ``None``."""
        cached = self._cached
        if cached is not None and _signature(cached[0]) == cached[1]:
            return cached[2]
        self._cached = None
        git_dir = _find(self._start)
        if git_dir is None:
            return None
        read: list[str] = []
        commit = _commit_in(git_dir, read)
        signature = _signature(read)
        # Remember the answer only if a second reading agrees and no file changed in
        # between: a commit landing during the first reading is then never cached.
        if (
            signature is not None
            and _commit_in(git_dir) == commit
            and _signature(read) == signature
        ):
            self._cached = (read, signature, commit)
        return commit
