"""Read the commit checked out in a git repository, and whether the tree differs from it.

Handles a normal ``.git`` folder, a ``.git`` file (worktrees, submodules) with its
``commondir``, symbolic ``HEAD`` (a branch, loose or packed in ``packed-refs``) and a
detached ``HEAD``. Outside a repository, in one without commits, or with a ref store
this reader does not know (``reftable``), the commit is ``None``: the run is recorded
without a commit rather than failing. Every run calls it, so it works on plain strings
and ``os.stat`` (a few microseconds) rather than ``pathlib``, and spawns no ``git``.
Whether tracked files differ from the commit (:attr:`GitState.dirty`) is told by
:mod:`monocycle_nash.runmeta.git_worktree`.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from monocycle_nash.runmeta.git_worktree import WorktreeCheck

__all__ = [
    "FirstCommitProbe",
    "GitCommitProbe",
    "GitState",
    "GitStateProbe",
    "find_git_dir",
    "read_git_commit",
    "read_git_state",
]

_HEX: Final = frozenset("0123456789abcdef")
_MAX_SYMREF_DEPTH: Final = 5


@dataclass(frozen=True, slots=True)
class GitState:
    """The commit checked out (``None``: none) and whether tracked files differ from it.

    ``dirty`` is ``None`` when unknown: no commit, or neither the files nor ``git
    status`` could tell.
    """

    commit: str | None
    dirty: bool | None


class GitStateProbe(Protocol):
    """Anything that reports a :class:`GitState` (a :class:`GitCommitProbe`, say)."""

    def state(self) -> GitState:
        """Return the commit checked out and whether the tree differs from it."""
        ...


def _is_sha(text: str) -> bool:
    return len(text) in {40, 64} and _HEX.issuperset(text)


def _read_line(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123
            return handle.readline().strip()
    except OSError:
        return None


def _locate(start: str) -> tuple[str, str] | None:
    """Return ``(working tree, git folder)`` of the repository holding ``start``."""
    here = os.path.abspath(start)  # noqa: PTH100 - strings on the hot path
    while True:
        candidate = os.path.join(here, ".git")  # noqa: PTH118
        try:
            mode = os.stat(candidate).st_mode  # noqa: PTH116
        except OSError:
            mode = 0
        if stat.S_ISDIR(mode):
            return here, candidate
        if stat.S_ISREG(mode):
            line = _read_line(candidate)
            if line and line.startswith("gitdir:"):
                return here, os.path.join(here, line.removeprefix("gitdir:").strip())  # noqa: PTH118
            return None
        parent = os.path.dirname(here)  # noqa: PTH120
        if parent == here:
            return None
        here = parent


def _find(start: str) -> str | None:
    located = _locate(start)
    return None if located is None else located[1]


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
    """The commit checked out at one folder, and whether the tree differs, remembered.

    Calling it returns the commit (:func:`read_git_commit`); :meth:`state` adds whether
    tracked files differ from it. The commit is reused while every file it was read
    from (``HEAD``, the branch's ref file, ``packed-refs``) keeps its inode,
    modification time and size; git replaces these files by renaming, so a commit or a
    checkout changes the inode. Checking costs a few ``stat`` calls instead of opening
    and reading the files. The dirty check ``lstat``-s every tracked file on each call
    (see :class:`~monocycle_nash.runmeta.git_worktree.WorktreeCheck`). Outside a
    repository the folders are searched again on every call.
    """

    __slots__ = ("_cached", "_start", "_worktree")

    def __init__(self, start: str | Path) -> None:
        self._start = os.fspath(start)
        self._cached: tuple[list[str], _Signature, str | None, tuple[str, str]] | None = None
        self._worktree = WorktreeCheck()

    def __call__(self) -> str | None:
        """Return the commit checked out at the folder, or ``None``."""
        return self._checkout()[1]

    def state(self) -> GitState:
        """Return the commit and whether tracked files differ from it (``None``: unknown)."""
        location, commit = self._checkout()
        if location is None or commit is None:
            return GitState(commit, None)
        worktree, git_dir = location
        return GitState(
            commit, self._worktree.dirty(worktree, git_dir, _common_dir(git_dir), commit)
        )

    def _checkout(self) -> tuple[tuple[str, str] | None, str | None]:
        """Return ``((working tree, git folder), commit)``, from memory while still true."""
        cached = self._cached
        if cached is not None and _signature(cached[0]) == cached[1]:
            return cached[3], cached[2]
        self._cached = None
        location = _locate(self._start)
        if location is None:
            return None, None
        git_dir = location[1]
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
            self._cached = (read, signature, commit, location)
        return location, commit


def read_git_state(start: str | Path) -> GitState:
    """Return the commit checked out at ``start`` and whether the tree differs from it."""
    return GitCommitProbe(start).state()


class FirstCommitProbe:
    """The state of the first of several probes that finds a commit.

    E.g. the checkout holding the code being run, then the project folder: the commit
    and whether its tree is dirty always come from the same repository.
    """

    __slots__ = ("_probes",)

    def __init__(self, *probes: GitStateProbe) -> None:
        self._probes = probes

    def __call__(self) -> str | None:
        """Return the first commit found, or ``None``."""
        return self.state().commit

    def state(self) -> GitState:
        """Return the first state with a commit; without one, no commit and dirty unknown."""
        for probe in self._probes:
            found = probe.state()
            if found.commit is not None:
                return found
        return GitState(None, None)
