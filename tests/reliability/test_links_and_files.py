"""Project links shared by several result roots, and the files runmeta reads and writes.

Links: two result roots (two databases) link their runs into one analysis folder;
neither may replace or remove the other's link, and ``check`` reports links that are
missing, stale (a text link with an old status, a link to another folder) or foreign
(a link of this root whose run is gone), repairing only the first two.

Files: input copies keep the source's permission bits; a symlinked ``experiment_refs``
is not followed and a user's file there is not replaced; a planted symlink at a temp
file's name is never followed; a meta.json that is a device, a FIFO or huge is never
read whole; another program's SQLite file is refused without a byte changed. Every
case runs the real main job or the real ``runmeta`` CLI, on real files.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from monocycle_nash.runmeta import FixedClock, RunSessionService
from tests.reliability.helpers import HERE, db_path, runmeta, runmeta_json

MAIN = HERE.parents[1] / "src" / "main.py"
TIMEOUT = 60
RPS = 'labels = ["R", "P", "S"]\nmatrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n'


def _links_to(folder: Path, run_dir: Path) -> list[Path]:
    """Every symlink or text link below ``folder`` (links not followed) naming ``run_dir``."""
    found: list[Path] = []
    for current, folders, files in os.walk(folder):  # a symlink to a folder is in folders
        for name in [*folders, *files]:
            path = Path(current, name)
            if path.is_symlink():
                if path.resolve() == run_dir.resolve():
                    found.append(path)
            elif name.endswith(".txt"):
                first = path.read_text(encoding="utf-8").splitlines()[0]
                if Path(first).resolve() == run_dir.resolve():
                    found.append(path)
    return found


def _folder_of(refs: Path, root: Path) -> Path:
    """The folder of ``experiment_refs`` holding the links of ``root``'s runs."""
    (folder,) = refs.glob(f"{root.name}-result-*")
    return folder


def _service(root: Path) -> RunSessionService:
    return RunSessionService.open(
        root, clock=FixedClock("2026-02-14T19:30:12+09:00", step=1), git_probe=lambda: None
    )


def _finish_run(root: Path, project: str, analysis: Path) -> int:
    """Record one finished run of ``project`` (folder ``analysis``) in the root's history."""
    with _service(root) as service:
        service.ensure_project(project, analysis)
        return service.finish_success(service.start("run", project_id=project)).run_id


def _findings(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> list[tuple[int, str]]:
    report = runmeta_json(capsys, root, "check", *args, code=1)
    return [(f["run_id"], f["kind"]) for f in report["findings"]]


# -- links of two result roots in one analysis folder ------------------------------------


def test_two_roots_sharing_an_analysis_folder_keep_each_others_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run 1 of two databases in one folder: both links stay; deleting one keeps the other."""
    analysis = tmp_path / "analysis"
    analysis.mkdir()
    first, second = tmp_path / "first", tmp_path / "second"
    assert _finish_run(first, "study", analysis) == 1
    assert _finish_run(second, "study", analysis) == 1
    assert len(_links_to(analysis, first / "result" / "1")) == 1
    assert len(_links_to(analysis, second / "result" / "1")) == 1
    assert runmeta(capsys, second, "delete-run", "--run-id", "1", "--with-files")[0] == 0
    assert len(_links_to(analysis, first / "result" / "1")) == 1
    code, out, err = runmeta(capsys, first, "check")
    assert (code, err) == (0, ""), out
    assert out.endswith(": consistent\n")


def test_check_reports_missing_stale_and_foreign_links_and_repairs_only_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check finds each link problem; --repair remakes missing/stale links, keeps foreign ones."""
    analysis, root, other = tmp_path / "analysis", tmp_path / "root", tmp_path / "other"
    analysis.mkdir()
    for _ in range(4):
        _finish_run(root, "study", analysis)
    _finish_run(other, "study", analysis)
    refs = analysis / "experiment_refs"
    own = _folder_of(refs, root)
    (own / "1").unlink()  # missing
    (own / "2").unlink()  # stale: an older text link still saying running
    (refs / "2.txt").write_text(
        f"{(root / 'result' / '2').absolute()}\ncreated_at: 2026-02-14T19:30:13+09:00\n"
        "status: running\n",
        encoding="utf-8",
    )
    (own / "3").unlink()  # stale: the older layout's link, overwritten by the other root
    (refs / "3").symlink_to((other / "result" / "1").absolute())
    assert runmeta(capsys, root, "delete-run", "--run-id", "4")[0] == 0  # foreign: row gone
    expected = [(1, "missing-link"), (2, "stale-link"), (3, "stale-link"), (4, "orphan-folder")]
    assert _findings(capsys, root) == [*expected, (4, "foreign-link")]
    report = runmeta_json(capsys, root, "check", "--repair", code=1)
    states = {(f["run_id"], f["kind"]): f["repaired"] for f in report["findings"]}
    assert states == {
        (1, "missing-link"): True,
        (2, "stale-link"): True,
        (3, "stale-link"): True,
        (4, "orphan-folder"): False,
        (4, "foreign-link"): False,
    }
    for run_id in (1, 2, 3):
        assert _links_to(own, root / "result" / str(run_id)) == [own / str(run_id)]
    assert not (refs / "2.txt").exists()  # this run's own older link, moved
    assert (refs / "3").resolve() == (other / "result" / "1").resolve()  # the other root's
    assert (own / "4").resolve() == (root / "result" / "4").resolve()  # foreign: never removed
    assert _findings(capsys, root) == [(4, "orphan-folder"), (4, "foreign-link")]
    code, out, _ = runmeta(capsys, other, "check")
    assert code == 0, out


# -- experiment_refs that is not ours to follow or replace -------------------------------


def _main_job(
    tmp_path: Path, *, mode: int = 0o644, umask: int = 0o022
) -> subprocess.CompletedProcess[str]:
    """Run the main job on a split run config attached to project ``p`` at ``analysis``."""
    (tmp_path / "game.toml").write_text(RPS, encoding="utf-8")
    (tmp_path / "game.toml").chmod(mode)
    (tmp_path / "run.toml").write_text(
        f'game = "game.toml"\n[analysis_project]\nproject_id = "p"\n'
        f'project_path = "{tmp_path / "analysis"}"\n',
        encoding="utf-8",
    )

    def set_umask() -> None:
        os.umask(umask)

    return subprocess.run(
        [sys.executable, str(MAIN), "run.toml", "--root", str(tmp_path / "root")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=set_umask,
    )


def test_symlinked_experiment_refs_is_not_followed(tmp_path: Path) -> None:
    """experiment_refs pointing elsewhere: the run succeeds with a warning, nothing lands there."""
    (tmp_path / "analysis").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "analysis" / "experiment_refs").symlink_to(outside)
    result = _main_job(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "experiment_refs: it is a symbolic link; not followed" in result.stderr
    assert list(outside.iterdir()) == []


def test_a_users_file_named_like_a_run_id_is_never_replaced(tmp_path: Path) -> None:
    """experiment_refs/1 holding the user's notes stays as it was; the run links beside it."""
    refs = tmp_path / "analysis" / "experiment_refs"
    refs.mkdir(parents=True)
    (refs / "1").write_text("my notes about an older run 1\n", encoding="utf-8")
    result = _main_job(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (refs / "1").read_text(encoding="utf-8") == "my notes about an older run 1\n"
    assert not (refs / "1").is_symlink()
    assert _links_to(refs, tmp_path / "root" / "result" / "1") != []


# -- permissions of the input copies -----------------------------------------------------


def test_a_private_input_stays_private_in_its_copies(tmp_path: Path) -> None:
    """A 0600 game file: its copy and merged_input.toml are 0600 too, whatever the umask."""
    (tmp_path / "analysis").mkdir()
    result = _main_job(tmp_path, mode=0o600, umask=0o000)
    assert result.returncode == 0, result.stderr
    stored = tmp_path / "root" / "result" / "1" / "input"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in stored.iterdir()}
    assert modes["game.toml"] == 0o600
    assert modes["merged_input.toml"] == 0o600
    assert modes["run.toml"] == stat.S_IMODE((tmp_path / "run.toml").stat().st_mode)


# -- a planted symlink at a temp file's name -----------------------------------------------

_PLANT_AND_WRITE = """
import os, sys
from monocycle_nash.runmeta.artifact_store import write_file_atomically
folder, victim = sys.argv[1], sys.argv[2]
for n in range(64):  # every name the earlier, counted temp files of this process would take
    os.symlink(victim, os.path.join(folder, f".meta.json.{os.getpid()}.{n}.tmp"))
write_file_atomically(os.path.join(folder, "meta.json"), "{}\\n")
"""


def test_a_planted_temp_symlink_is_never_followed(tmp_path: Path) -> None:
    """Symlinks planted at guessable temp names: the write succeeds, their target is untouched."""
    folder, victim = tmp_path / "run", tmp_path / "victim.txt"
    folder.mkdir()
    victim.write_text("precious\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", _PLANT_AND_WRITE, str(folder), str(victim)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    meta = folder / "meta.json"
    assert not meta.is_symlink() and meta.read_text(encoding="utf-8") == "{}\n"


# -- a meta.json that is not a regular file -------------------------------------------------


def _zero_device(meta: Path) -> None:
    meta.symlink_to("/dev/zero")


def _fifo(meta: Path) -> None:
    os.mkfifo(meta)


def _huge(meta: Path) -> None:
    with meta.open("wb") as handle:
        handle.truncate(17 << 20)  # sparse: 17 MiB of zero bytes, past the 16 MiB cap


def _limit_memory() -> None:  # in the child: an endless read fails fast instead of swapping
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize(
    "plant",
    [
        pytest.param(_zero_device, id="symlink-to-dev-zero"),
        pytest.param(_fifo, id="fifo"),
        pytest.param(_huge, id="larger-than-16-MiB"),
    ],
)
def test_a_meta_json_that_is_no_regular_file_never_hangs_a_reader(
    tmp_path: Path, plant: Callable[[Path], None]
) -> None:
    """show-run and check report such a meta.json as unreadable, at once, in their own process."""
    root = tmp_path / "project"
    _finish_run(root, "study", tmp_path)
    meta = root / "result" / "1" / "meta.json"
    meta.unlink()
    plant(meta)
    for argv, code in ((["show-run", "--run-id", "1"], 0), (["check"], 1)):
        result = subprocess.run(
            [sys.executable, "-m", "monocycle_nash.runmeta", *argv],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            preexec_fn=_limit_memory,
            env={**os.environ, "COLUMNS": "300"},
        )
        assert (result.returncode, result.stderr) == (code, ""), result.stderr
        assert "unreadable" in result.stdout
        assert "regular file" in result.stdout or "larger than" in result.stdout


# -- another program's SQLite file --------------------------------------------------------


def _runs_table_of_another_program(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, distance REAL, shoes TEXT)")
        conn.execute("INSERT INTO runs (distance, shoes) VALUES (10.5, 'red')")
        conn.commit()


def _own_version_of_another_program(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT, minutes INTEGER)")
        conn.execute("PRAGMA user_version = 2")
        conn.commit()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(_runs_table_of_another_program, id="only-a-runs-table"),
        pytest.param(_own_version_of_another_program, id="user-version-2"),
    ],
)
@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["list-runs"], id="list-runs"),
        pytest.param(["check"], id="check"),
        pytest.param(["update-run", "--run-id", "1", "--note", "x"], id="update-run"),
        pytest.param(["add-project", "--project-id", "p", "--project-path", "."], id="add"),
        pytest.param(None, id="main-job"),
    ],
)
def test_another_programs_database_is_refused_without_a_byte_changed(
    tmp_path: Path, make: Callable[[Path], None], argv: list[str] | None
) -> None:
    """Another program's SQLite file: one line, exit 1, same bytes, no -wal or -shm left."""
    database = db_path(tmp_path)
    database.parent.mkdir()
    make(database)
    before = database.read_bytes()
    if argv is None:
        command = [sys.executable, str(MAIN), "--root", str(tmp_path)]
    else:
        command = [sys.executable, "-m", "monocycle_nash.runmeta", *argv]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "an SQLite database of another program" in result.stderr
    assert database.read_bytes() == before
    assert [p.name for p in database.parent.iterdir()] == ["run_history.db"]
    assert not (tmp_path / "result").exists()
