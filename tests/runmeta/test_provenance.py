"""Tests of a run's provenance: collected at the start, kept in meta.json, shown by show-run,
and the ``--version`` of both commands."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import monocycle_nash
from monocycle_nash.app.main_job import _code_commit_probe
from monocycle_nash.runmeta import provenance as provenance_module
from monocycle_nash.runmeta.cli import main
from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.git_probe import GitCommitProbe, GitState, read_git_state
from monocycle_nash.runmeta.provenance import (
    Provenance,
    collect_provenance,
    command_line,
    format_provenance,
    package_version,
)
from monocycle_nash.runmeta.service import RunSessionService
from tests.app.main_process import MAIN, run_main_job

CLOCK_START = "2026-02-14T19:30:12+09:00"
HAS_GIT = shutil.which("git") is not None
FIELDS = [
    "package_version",
    "python_version",
    "python_implementation",
    "platform",
    "git_commit",
    "git_dirty",
    "argv",
]


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


def _make_repo(folder: Path) -> str:
    """A repository with one tracked file and one commit; return the commit."""
    folder.mkdir(parents=True, exist_ok=True)
    env = _git_env()

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=folder, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    (folder / "solver.py").write_text("ANSWER = 42\n")
    git("add", "solver.py")
    git("commit", "-q", "-m", "first")
    return git("rev-parse", "HEAD")


def _meta(root: Path, run_id: int) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / "result" / str(run_id) / "meta.json").read_text())
    return data


# -- the Provenance value ------------------------------------------------------------------


def test_collect_provenance_fields() -> None:
    """Version, Python, platform and argv describe this process; git comes from the state."""
    found = collect_provenance(GitState("c0ffee", True))
    assert found.package_version == metadata.version("monocycle-nash")
    assert found.python_version == platform.python_version()
    assert found.python_implementation == platform.python_implementation()
    assert found.platform == platform.platform()
    assert (found.git_commit, found.git_dirty) == ("c0ffee", True)
    assert list(found.argv) == sys.orig_argv
    data = found.to_json()
    assert list(data) == FIELDS
    assert data["argv"] == sys.orig_argv
    assert json.loads(json.dumps(data)) == data


def test_collect_provenance_without_git() -> None:
    """No git state: commit and dirtiness are unknown."""
    found = collect_provenance(None)
    assert (found.git_commit, found.git_dirty) == (None, None)


def test_package_version_without_a_dist_info(monkeypatch: pytest.MonkeyPatch) -> None:
    """When no dist-info is on sys.path, importlib.metadata decides; not installed: None."""
    monkeypatch.setattr(provenance_module, "_dist_info_version", lambda: None)
    package_version.cache_clear()
    try:
        assert package_version() == metadata.version("monocycle-nash")
        package_version.cache_clear()

        def not_installed(name: str) -> str:
            raise metadata.PackageNotFoundError(name)

        monkeypatch.setattr(metadata, "version", not_installed)
        assert package_version() is None
    finally:
        package_version.cache_clear()


def test_command_line_bytes_that_are_not_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undecodable argv bytes (lone surrogates) are stored as \\xNN, never failing a run."""
    monkeypatch.setattr(sys, "orig_argv", ["python", "run.py", "caf\udce9"])
    assert command_line() == ("python", "run.py", "caf\\xe9")


# -- recorded by the service -----------------------------------------------------------------


def test_meta_json_has_provenance(tmp_path: Path) -> None:
    """meta.json holds a provenance object from the start; git_commit stays at the top."""
    with RunSessionService.open(
        tmp_path, clock=FixedClock(CLOCK_START), git_probe=lambda: "abc123"
    ) as service:
        ctx = service.start("python sweep.py")
        started = _meta(tmp_path, ctx.run_id)
        service.finish_success(ctx)
    assert isinstance(started["provenance"], dict)
    assert list(started["provenance"]) == FIELDS
    assert started["git_commit"] == "abc123"
    assert started["provenance"]["git_commit"] == "abc123"
    assert started["provenance"]["git_dirty"] is None  # a commit-only probe cannot tell
    assert ctx.provenance is not None
    assert ctx.provenance.to_json() == started["provenance"]
    assert _meta(tmp_path, ctx.run_id)["provenance"] == started["provenance"]


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_edited_tracked_file_records_dirty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run from a clean checkout records dirty false; after editing a tracked file, true."""
    for key, value in _git_env().items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "code"
    commit = _make_repo(repo)
    root = tmp_path / "project"
    with RunSessionService.open(root, git_probe=GitCommitProbe(repo)) as service:
        with service.record("python solve.py") as clean:
            pass
        (repo / "solver.py").write_text("ANSWER = 43\n")  # same size, same second
        with service.record("python solve.py") as edited:
            pass
    for run_id, dirty in ((clean.run_id, False), (edited.run_id, True)):
        meta = _meta(root, run_id)
        assert meta["git_commit"] == commit
        assert meta["provenance"]["git_commit"] == commit  # type: ignore[index]
        assert meta["provenance"]["git_dirty"] is dirty  # type: ignore[index]


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_default_probe_reads_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without git_probe the root's checkout is read, dirty included; untracked results
    (result/, .runmeta/) do not make it dirty."""
    for key, value in _git_env().items():
        monkeypatch.setenv(key, value)
    commit = _make_repo(tmp_path)
    with RunSessionService.open(tmp_path) as service, service.record("python solve.py") as run:
        pass
    assert _meta(tmp_path, run.run_id)["provenance"]["git_commit"] == commit  # type: ignore[index]
    assert _meta(tmp_path, run.run_id)["provenance"]["git_dirty"] is False  # type: ignore[index]


def test_provenance_survives_edits_and_is_not_an_extra(tmp_path: Path) -> None:
    """update-run rewrites meta.json keeping the provenance; extra["provenance"] is ignored."""
    with RunSessionService.open(tmp_path, git_probe=lambda: None) as service:
        with service.record("python solve.py") as run:
            run.extra["provenance"] = "forged"
            run.extra["solver"] = "lp"
        first = _meta(tmp_path, run.run_id)
        service.edits.update_run(run.run_id, note="checked")
    after = _meta(tmp_path, run.run_id)
    assert first["provenance"] == after["provenance"]
    assert isinstance(after["provenance"], dict)
    assert after["solver"] == "lp"
    assert after["note"] == "checked"


def test_failed_start_keeps_provenance(tmp_path: Path) -> None:
    """A run whose start failed after the INSERT (missing input) still has its provenance."""
    with RunSessionService.open(tmp_path, git_probe=lambda: None) as service:
        with pytest.raises(Exception) as failure:
            service.start("python solve.py", input_path=tmp_path / "missing.toml")
        run_id = failure.value.failed_run_id  # type: ignore[attr-defined]
    meta = _meta(tmp_path, run_id)
    assert meta["status"] == "fail"
    assert isinstance(meta["provenance"], dict)


# -- show-run --------------------------------------------------------------------------------


def _show(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["show-run", "--run-id", "1", *args])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    return captured.out


@pytest.fixture
def dirty_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Provenance:
    """A run recorded in the current folder from a dirty checkout; its provenance."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "orig_argv", ["python", "src/main.py", "game one.toml"])

    class Dirty:
        def state(self) -> GitState:
            return GitState("abc123", True)

    with RunSessionService.open(tmp_path, git_probe=Dirty()) as service:
        ctx = service.start("python src/main.py")
        service.finish_success(ctx)
    assert ctx.provenance is not None
    return ctx.provenance


def test_show_run_prints_provenance(
    dirty_run: Provenance, capsys: pytest.CaptureFixture[str]
) -> None:
    """show-run prints the provenance after the run's fields, the commit marked dirty."""
    lines = _show(capsys).splitlines()
    start = lines.index("provenance:")
    assert lines[start - 1] == ""  # after the run's own block
    assert lines[start + 1 : start + 7] == [
        f"  version     monocycle-nash {dirty_run.package_version}",
        f"  python      {dirty_run.python_implementation} {dirty_run.python_version}",
        f"  platform    {dirty_run.platform}",
        "  git commit  abc123 (dirty)",
        "  argv        python src/main.py 'game one.toml'",
        "",
    ]
    assert lines.index("meta.json:") > start


def test_show_run_json_includes_provenance(
    dirty_run: Provenance, capsys: pytest.CaptureFixture[str]
) -> None:
    """show-run --json carries the provenance inside meta."""
    document = json.loads(_show(capsys, "--json"))
    assert document["meta"]["provenance"] == dirty_run.to_json()


def test_show_run_of_a_run_without_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run recorded before provenance existed shows no provenance block."""
    monkeypatch.chdir(tmp_path)
    with RunSessionService.open(tmp_path, git_probe=lambda: None) as service:
        service.finish_success(service.start("python old.py"))
    path = tmp_path / "result" / "1" / "meta.json"
    meta = json.loads(path.read_text())
    del meta["provenance"]
    path.write_text(json.dumps(meta))
    assert "provenance:" not in _show(capsys).splitlines()


@pytest.mark.parametrize(
    ("data", "commit_line"),
    [
        pytest.param({"git_commit": "abc", "git_dirty": False}, "  git commit  abc", id="clean"),
        pytest.param(
            {"git_commit": "abc", "git_dirty": None},
            "  git commit  abc (dirty: unknown)",
            id="unknown",
        ),
        pytest.param({"git_commit": None, "git_dirty": None}, "  git commit  -", id="no-commit"),
    ],
)
def test_format_provenance_commit(data: dict[str, object], commit_line: str) -> None:
    """The commit line says dirty, clean (nothing added) or unknown."""
    lines = list(format_provenance(data))
    assert commit_line in lines


def test_format_provenance_of_damaged_data() -> None:
    """Fields of the wrong type show as '-'; controls in text are made visible; null: nothing."""
    lines = list(format_provenance({"package_version": 3, "platform": "x\x1b[2J", "argv": [1]}))
    assert "  version     -" in lines
    assert "  argv        -" in lines
    assert not any("\x1b" in line for line in lines)
    assert list(format_provenance(None)) == []
    assert list(format_provenance(["not", "an", "object"])) == []


# -- --version -------------------------------------------------------------------------------


def test_runmeta_version_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """runmeta --version prints 'runmeta (monocycle-nash) X.Y.Z' and exits 0, subcommand or not."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 0
    assert captured.out == f"runmeta (monocycle-nash) {metadata.version('monocycle-nash')}\n"
    assert captured.err == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(
            [sys.executable, "-m", "monocycle_nash.runmeta", "--version"],
            "runmeta (monocycle-nash) {}",
            id="runmeta",
        ),
        pytest.param(
            [sys.executable, "-m", "monocycle_nash.app", "--version"],
            "monocycle-nash {}",
            id="monocycle-nash",
        ),
    ],
)
def test_version_through_a_process(command: list[str], expected: str, tmp_path: Path) -> None:
    """Both commands print their version through a real process, exit 0, empty stderr."""
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == expected.format(metadata.version("monocycle-nash")) + "\n"


# -- the main job ----------------------------------------------------------------------------


def test_main_job_probe_takes_the_code_checkout_first(tmp_path: Path) -> None:
    """The main job's probe reads the checkout holding the code, else the project root."""
    code_folder = Path(monocycle_nash.__file__).resolve().parent / "app"
    expected = read_git_state(code_folder)
    if expected.commit is None:  # installed outside a checkout: the root decides
        expected = read_git_state(tmp_path)
    assert _code_commit_probe(tmp_path).state() == expected


@pytest.mark.slow
def test_main_job_records_provenance(tmp_path: Path) -> None:
    """A real main-job process writes meta.json with a provenance block of its own."""
    done = run_main_job(tmp_path)
    assert done.returncode == 0, done.stderr
    meta = _meta(tmp_path, 1)
    found = meta["provenance"]
    assert isinstance(found, dict)
    assert list(found) == FIELDS
    assert found["package_version"] == metadata.version("monocycle-nash")
    assert found["python_version"] == platform.python_version()
    assert found["python_implementation"] == platform.python_implementation()
    assert found["argv"][1:] == [str(MAIN), "--root", str(tmp_path)]  # after the interpreter
    assert found["git_commit"] == meta["git_commit"]
    assert found["git_dirty"] in {True, False, None}
    if found["git_commit"] is None:
        assert found["git_dirty"] is None
