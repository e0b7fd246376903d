"""Tests of the dirty check (GitCommitProbe.state) on real git repositories in tmp_path.

Each answer is compared with what ``git status`` says, and the tests say when git may be
spawned: never on the fast path (a parsed index with a valid cached tree), only as the
fallback.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monocycle_nash.runmeta import git_worktree
from monocycle_nash.runmeta.git_probe import (
    FirstCommitProbe,
    GitCommitProbe,
    GitState,
    read_git_commit,
    read_git_state,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes and symlinks")

Git = Callable[..., str]


def _git_env() -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("GIT_")},
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def _git_in(folder: Path) -> Git:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=folder,
            env=_git_env(),
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    return git


def _make_repo(folder: Path, *init_options: str) -> Git:
    """A repository with a few kinds of tracked files and one commit."""
    folder.mkdir(parents=True, exist_ok=True)
    git = _git_in(folder)
    git("init", "-q", "-b", "main", *init_options)
    (folder / "a.txt").write_text("alpha\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "b.txt").write_text("bravo\n")
    (folder / "empty").write_text("")
    tool = folder / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    if sys.platform != "win32":
        (folder / "link").symlink_to("a.txt")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    return git


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean repository; git run by the code under test sees the same configuration."""
    for key, value in _git_env().items():
        monkeypatch.setenv(key, value)
    folder = tmp_path / "repo"
    _make_repo(folder)
    return folder


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every fallback to `git status`, recorded (and still run)."""
    calls: list[tuple[str, str]] = []
    real = git_worktree.git_status_dirty

    def spy(worktree: str, git_dir: str) -> bool | None:
        calls.append((worktree, git_dir))
        return real(worktree, git_dir)

    monkeypatch.setattr(git_worktree, "git_status_dirty", spy)
    return calls


@pytest.fixture
def no_git_status(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the fallback fail, as without git; record that it was tried."""
    tried: list[str] = []

    def failing(worktree: str, git_dir: str) -> bool | None:
        tried.append(worktree)
        return None

    monkeypatch.setattr(git_worktree, "git_status_dirty", failing)
    return tried


def _git_says_dirty(folder: Path) -> bool:
    out = _git_in(folder)("status", "--porcelain", "--untracked-files=no")
    return bool(out)


def _dirty(folder: Path) -> bool | None:
    return GitCommitProbe(folder).state().dirty


# -- the fast path: no git spawned ------------------------------------------------------


def test_clean_tree(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """A fresh commit is clean, with the commit read as before, and git is not spawned."""
    state = GitCommitProbe(repo).state()
    assert state == GitState(_git_in(repo)("rev-parse", "HEAD"), False)
    assert spawned == []
    assert _git_says_dirty(repo) is False


def test_edit_changing_the_size(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """A tracked file with another size is modified, told from its stat alone."""
    (repo / "sub" / "b.txt").write_text("bravo, longer\n")
    assert _dirty(repo) is True
    assert spawned == []
    assert _git_says_dirty(repo) is True


def test_same_size_edit_is_found_by_hashing(repo: Path, no_git_status: list[str]) -> None:
    """One character changed (same size, same second) is found by hashing the file."""
    (repo / "a.txt").write_text("alphA\n")
    assert _dirty(repo) is True  # even with git unavailable
    assert no_git_status  # git was asked first: a content filter could make them equal
    assert _git_says_dirty(repo) is True


def test_same_size_edit_confirmed_by_git(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """With git available, the same-size edit is confirmed by git status."""
    (repo / "a.txt").write_text("alphA\n")
    assert _dirty(repo) is True
    assert len(spawned) == 1


def test_touched_but_unchanged_file_is_clean(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """A file rewritten with the same bytes has new times but the same blob: clean."""
    (repo / "a.txt").write_text("alpha\n")
    os.utime(repo / "a.txt", (1_000_000_000, 1_000_000_000))
    assert _dirty(repo) is False
    assert spawned == []


def test_deleted_file(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """A tracked file that is gone is a modification."""
    (repo / "sub" / "b.txt").unlink()
    assert _dirty(repo) is True
    assert spawned == []
    assert _git_says_dirty(repo) is True


def test_deleted_folder(repo: Path) -> None:
    """A tracked file whose folder became a file is a modification."""
    shutil.rmtree(repo / "sub")
    (repo / "sub").write_text("now a file\n")
    assert _dirty(repo) is True


def test_untracked_file_is_not_dirty(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """New untracked files (results, notes) do not make the tree dirty."""
    (repo / "new.txt").write_text("untracked\n")
    (repo / "result").mkdir()
    (repo / "result" / "meta.json").write_text("{}\n")
    assert _dirty(repo) is False
    assert spawned == []


def test_empty_tracked_file_edited(repo: Path) -> None:
    """A tracked empty file (size 0 in the index) that gets content is modified."""
    (repo / "empty").write_text("x")
    assert _dirty(repo) is True


@POSIX
def test_executable_bit(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """A changed executable bit is a change, as git status shows it."""
    (repo / "a.txt").chmod(0o755)
    assert _dirty(repo) is True
    assert _git_says_dirty(repo) is True
    assert spawned == []


@POSIX
def test_executable_bit_ignored_with_core_filemode_false(repo: Path) -> None:
    """With core.fileMode false (a file system without modes) the bit is ignored."""
    _git_in(repo)("config", "core.fileMode", "false")
    (repo / "a.txt").chmod(0o755)
    assert _dirty(repo) is False
    assert _git_says_dirty(repo) is False


@POSIX
def test_symlink_retargeted(repo: Path) -> None:
    """A symlink is compared by its target."""
    (repo / "link").unlink()
    (repo / "link").symlink_to("sub/b.txt")
    assert _dirty(repo) is True
    assert _git_says_dirty(repo) is True


@POSIX
def test_symlink_replaced_by_a_file(repo: Path) -> None:
    """A tracked symlink that became a folder is a modification."""
    (repo / "link").unlink()
    (repo / "link").mkdir()
    assert _dirty(repo) is True


def test_staged_change_is_dirty(repo: Path) -> None:
    """A change added to the index but not committed makes the tree differ from the commit."""
    (repo / "a.txt").write_text("alpha two\n")
    _git_in(repo)("add", "a.txt")
    assert _dirty(repo) is True
    assert _git_says_dirty(repo) is True


def test_index_of_another_commit(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """After `reset --soft`, the index (a valid cached tree) differs from HEAD: dirty."""
    git = _git_in(repo)
    (repo / "a.txt").write_text("alpha two\n")
    git("commit", "-q", "-am", "second")
    git("reset", "-q", "--soft", "HEAD~1")
    assert _dirty(repo) is True
    assert spawned == []
    assert _git_says_dirty(repo) is True


def test_commit_read_from_a_pack(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """After `git gc` the commit's tree is read from the pack; still no git spawned."""
    git = _git_in(repo)
    git("gc", "-q")
    commit_file = git("rev-parse", "HEAD")
    assert not (repo / ".git" / "objects" / commit_file[:2] / commit_file[2:]).exists()
    assert _dirty(repo) is False
    assert spawned == []


def test_new_commit_after_an_edit(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """One probe follows edits and commits: dirty, then clean at the new commit."""
    probe = GitCommitProbe(repo)
    assert probe.state().dirty is False
    (repo / "a.txt").write_text("alpha, edited\n")
    assert probe.state().dirty is True
    git = _git_in(repo)
    git("commit", "-q", "-am", "second")
    assert probe.state() == GitState(git("rev-parse", "HEAD"), False)
    assert spawned == []


def test_skip_worktree_file_counts_as_unchanged(repo: Path) -> None:
    """A skip-worktree entry (index version 3) is not compared, as git does not."""
    git = _git_in(repo)
    git("update-index", "--skip-worktree", "a.txt")
    (repo / "a.txt").write_text("changed behind git's back\n")
    assert _dirty(repo) is False
    assert _git_says_dirty(repo) is False
    (repo / "sub" / "b.txt").write_text("bravo!\n")
    assert _dirty(repo) is True


def test_index_version_4(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """An index of version 4 (prefix-compressed paths) is read too."""
    git = _git_in(repo)
    git("update-index", "--index-version", "4")
    assert (repo / ".git" / "index").read_bytes()[4:8] == struct.pack(">I", 4)
    assert _dirty(repo) is False
    (repo / "sub" / "b.txt").unlink()
    assert _dirty(repo) is True
    assert spawned == []


def test_merge_conflict_is_dirty(repo: Path) -> None:
    """An unmerged index (a conflicted merge) is dirty."""
    git = _git_in(repo)
    git("checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text("other\n")
    git("commit", "-q", "-am", "other")
    git("checkout", "-q", "main")
    (repo / "a.txt").write_text("main\n")
    git("commit", "-q", "-am", "main")
    subprocess.run(
        ["git", "merge", "-q", "other"], cwd=repo, env=_git_env(), capture_output=True, check=False
    )
    assert _dirty(repo) is True


# -- the racy case ------------------------------------------------------------------------


def _patch_index_stat(repo: Path, name: bytes, info: os.stat_result) -> None:
    """Make the index record ``info`` as the stat of ``name`` (a version 2 index)."""
    index = repo / ".git" / "index"
    data = bytearray(index.read_bytes())
    assert data[:4] == b"DIRC" and struct.unpack(">I", data[4:8])[0] == 2
    pos = 12
    for _ in range(struct.unpack(">I", data[8:12])[0]):
        end = data.index(b"\0", pos + 62)
        if bytes(data[pos + 62 : end]) == name:
            ctime, mtime = divmod(info.st_ctime_ns, 10**9), divmod(info.st_mtime_ns, 10**9)
            struct.pack_into(">4I", data, pos, *ctime, *mtime)
            struct.pack_into(">I", data, pos + 20, info.st_ino & 0xFFFFFFFF)
            struct.pack_into(">I", data, pos + 36, info.st_size)
            break
        pos += (end - pos + 8) & ~7
    else:
        raise AssertionError(f"{name!r} not in the index")
    data[-20:] = hashlib.sha1(bytes(data[:-20]), usedforsecurity=False).digest()
    index.write_bytes(bytes(data))


def test_racy_entry_is_hashed(repo: Path, no_git_status: list[str]) -> None:
    """A file whose stat equals the index's record, but whose record is not older than
    the index file, is hashed: a same-size edit in the index's own tick is found."""
    target = repo / "a.txt"
    target.write_text("alphA\n")  # same size
    info = target.stat()
    _patch_index_stat(repo, b"a.txt", info)
    index = repo / ".git" / "index"
    later = info.st_mtime_ns + 10 * 10**9
    os.utime(index, ns=(later, later))  # the record is older than the index: trusted
    assert _dirty(repo) is False  # what a stat-only check would always answer
    os.utime(index, ns=(info.st_mtime_ns, info.st_mtime_ns))  # same tick: racy
    assert _dirty(repo) is True
    assert _git_says_dirty(repo) is True


# -- the fallback to git status ------------------------------------------------------------


def test_split_index_falls_back_to_git(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """A split index (a mandatory 'link' extension) is left to git status, which is right."""
    git = _git_in(repo)
    git("update-index", "--split-index")
    assert _dirty(repo) is False
    assert len(spawned) == 1
    (repo / "a.txt").write_text("alpha, edited\n")
    assert _dirty(repo) is True
    assert _git_says_dirty(repo) is True


def test_bad_checksum_falls_back_to_git(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """An index whose checksum is wrong is left to git status (which reads it anyway)."""
    index = repo / ".git" / "index"
    data = bytearray(index.read_bytes())
    data[-1] ^= 0xFF
    index.write_bytes(bytes(data))
    assert _dirty(repo) is False
    (repo / "sub" / "b.txt").write_text("bravo, edited\n")
    assert _dirty(repo) is True
    assert len(spawned) == 2


def test_unknown_index_version_is_unknown(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """An index of a version neither this reader nor git knows: dirty is unknown."""
    index = repo / ".git" / "index"
    data = bytearray(index.read_bytes())
    data[4:8] = struct.pack(">I", 99)
    data[-20:] = hashlib.sha1(bytes(data[:-20]), usedforsecurity=False).digest()
    index.write_bytes(bytes(data))
    state = read_git_state(repo)
    assert state.commit is not None
    assert state.dirty is None
    assert len(spawned) == 1


def test_corrupt_index_without_git_is_unknown(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A garbage index and no git on PATH: dirty is unknown, the commit still read."""
    (repo / ".git" / "index").write_bytes(b"DIRC garbage")
    monkeypatch.setenv("PATH", str(repo / "no-such-folder"))
    state = read_git_state(repo)
    assert state.commit is not None
    assert state.dirty is None


def test_missing_index_falls_back_to_git(repo: Path, spawned: list[tuple[str, str]]) -> None:
    """Without an index file git status decides (every file then looks deleted)."""
    (repo / ".git" / "index").unlink()
    assert _dirty(repo) is True
    assert len(spawned) == 1


def test_git_status_ignores_an_inherited_git_dir(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIT_DIR and GIT_INDEX_FILE in the environment (a git hook) do not redirect git."""
    other = tmp_path / "other"
    _make_repo(other)
    (other / "a.txt").write_text("dirty elsewhere\n")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    assert git_worktree.git_status_dirty(str(repo), str(repo / ".git")) is False


# -- repositories of other shapes ------------------------------------------------------------


def test_no_repository(tmp_path: Path) -> None:
    """Outside a repository: no commit, dirty unknown."""
    assert read_git_state(tmp_path) == GitState(None, None)


def test_repository_without_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A repository with no commit yet has no commit to be dirty against."""
    for key, value in _git_env().items():
        monkeypatch.setenv(key, value)
    _git_in(tmp_path)("init", "-q")
    (tmp_path / "f.txt").write_text("x")
    _git_in(tmp_path)("add", "f.txt")
    assert read_git_state(tmp_path) == GitState(None, None)


def test_linked_worktree(repo: Path, tmp_path: Path, spawned: list[tuple[str, str]]) -> None:
    """A linked worktree (a .git file) has its own index and HEAD; objects are shared."""
    git = _git_in(repo)
    worktree = tmp_path / "wt"
    git("worktree", "add", "-q", "-b", "feature", str(worktree))
    state = read_git_state(worktree / "sub")
    assert state == GitState(_git_in(worktree)("rev-parse", "HEAD"), False)
    (worktree / "a.txt").write_text("edited in the worktree\n")
    assert read_git_state(worktree).dirty is True
    assert read_git_state(repo).dirty is False
    assert spawned == []


def test_sha256_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A repository with SHA-256 object names is read the same way."""
    for key, value in _git_env().items():
        monkeypatch.setenv(key, value)
    try:
        _make_repo(tmp_path / "r", "--object-format=sha256")
    except subprocess.CalledProcessError:
        pytest.skip("this git cannot make SHA-256 repositories")
    folder = tmp_path / "r"
    state = read_git_state(folder)
    assert state.commit is not None and len(state.commit) == 64
    assert state.dirty is False
    (folder / "a.txt").write_text("alphA\n")
    assert read_git_state(folder).dirty is True


def test_first_commit_probe_takes_dirty_from_the_same_repository(
    repo: Path, tmp_path: Path
) -> None:
    """FirstCommitProbe answers with the first probe that finds a commit, dirty included."""
    plain = tmp_path / "plain"
    plain.mkdir()
    (repo / "a.txt").write_text("alpha, edited\n")
    probe = FirstCommitProbe(GitCommitProbe(plain), GitCommitProbe(repo))
    assert probe.state() == GitState(read_git_commit(repo), True)
    assert probe() == read_git_commit(repo)
    assert FirstCommitProbe(GitCommitProbe(plain)).state() == GitState(None, None)
