"""Tests of reading the checked-out commit from .git without running git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monocycle_nash.runmeta import git_probe
from monocycle_nash.runmeta.git_probe import GitCommitProbe, find_git_dir, read_git_commit

SHA_A = "a" * 40
SHA_B = "b" * 40


def _repo(root: Path, head: str) -> Path:
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head + "\n")
    return git


def test_no_repository(tmp_path: Path) -> None:
    """Outside a repository there is no git folder and no commit."""
    folder = tmp_path / "plain"
    folder.mkdir()
    assert find_git_dir(folder) is None
    assert read_git_commit(folder) is None


def test_branch_without_commits(tmp_path: Path) -> None:
    """A fresh repository (no commit on its branch) gives None."""
    _repo(tmp_path, "ref: refs/heads/main")
    assert read_git_commit(tmp_path) is None


def test_loose_branch_from_a_subfolder(tmp_path: Path) -> None:
    """HEAD -> refs/heads/main is resolved, found from a nested folder."""
    git = _repo(tmp_path, "ref: refs/heads/main")
    (git / "refs" / "heads" / "main").write_text(SHA_A + "\n")
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    assert find_git_dir(nested) == git
    assert read_git_commit(nested) == SHA_A


def test_packed_refs(tmp_path: Path) -> None:
    """A branch only in packed-refs is read from there (peeled lines skipped)."""
    git = _repo(tmp_path, "ref: refs/heads/main")
    (git / "packed-refs").write_text(
        "# pack-refs with: peeled fully-peeled sorted\n"
        f"{SHA_B} refs/heads/feature\n"
        f"{SHA_A} refs/heads/main\n"
        f"^{SHA_B}\n"
    )
    assert read_git_commit(tmp_path) == SHA_A


def test_detached_head(tmp_path: Path) -> None:
    """A detached HEAD holds the hash itself."""
    _repo(tmp_path, SHA_B)
    assert read_git_commit(tmp_path) == SHA_B


def test_worktree_git_file_with_commondir(tmp_path: Path) -> None:
    """A worktree's .git file leads to its HEAD; branches come from the common dir."""
    main_git = _repo(tmp_path / "main", "ref: refs/heads/main")
    (main_git / "refs" / "heads" / "feature").write_text(SHA_B + "\n")
    worktree_git = main_git / "worktrees" / "wt"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (worktree_git / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {worktree_git}\n")
    assert read_git_commit(checkout) == SHA_B


def test_garbage_head_gives_none(tmp_path: Path) -> None:
    """An unreadable HEAD is no commit, not a crash."""
    _repo(tmp_path, "something odd")
    assert read_git_commit(tmp_path) is None


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_agrees_with_git(tmp_path: Path) -> None:
    """On a real repository the answer equals `git rev-parse HEAD`, packed or not."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    (tmp_path / "f.txt").write_text("x")
    git("add", "f.txt")
    git("commit", "-q", "-m", "one")
    assert read_git_commit(tmp_path) == git("rev-parse", "HEAD")
    git("pack-refs", "--all")
    assert read_git_commit(tmp_path) == git("rev-parse", "HEAD")
    git("checkout", "-q", "--detach")
    assert read_git_commit(tmp_path) == git("rev-parse", "HEAD")


def test_cached_probe_follows_commits_and_checkouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitCommitProbe rereads only when HEAD or the branch file was replaced."""
    git = _repo(tmp_path, "ref: refs/heads/main")
    main = git / "refs" / "heads" / "main"
    main.write_text(SHA_A + "\n")
    reads: list[str] = []
    real = git_probe._commit_in

    def counting(git_dir: str, read: list[str] | None = None) -> str | None:
        reads.append(git_dir)
        return real(git_dir, read)

    monkeypatch.setattr(git_probe, "_commit_in", counting)
    probe = GitCommitProbe(tmp_path)
    assert probe() == SHA_A
    first_reads = len(reads)
    assert probe() == SHA_A
    assert len(reads) == first_reads  # answered from the stat check alone
    new_ref = main.with_name("main.lock")
    new_ref.write_text(SHA_B + "\n")
    new_ref.replace(main)  # how git updates a ref
    assert probe() == SHA_B
    (git / "refs" / "heads" / "other").write_text(SHA_A + "\n")
    new_head = git / "HEAD.lock"
    new_head.write_text("ref: refs/heads/other\n")
    new_head.replace(git / "HEAD")
    assert probe() == SHA_A


def test_cached_probe_outside_a_repository(tmp_path: Path) -> None:
    """Without a repository the probe answers None and notices a new one."""
    probe = GitCommitProbe(tmp_path)
    assert probe() is None
    git = _repo(tmp_path, SHA_B)
    assert git.is_dir()
    assert probe() == SHA_B
