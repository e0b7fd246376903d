"""The PostgreSQL backend through real processes: the CLI, the main job, a missing driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from monocycle_nash.runmeta import DatabaseUrl, RunSessionService
from monocycle_nash.runmeta.db import SCHEMA_VERSION
from tests.postgres.conftest import SECRET

pytestmark = pytest.mark.slow

_VARIABLE = "RUNMETA_DATABASE_URL"
_GAME = """labels = ["Rock", "Paper", "Scissors"]
matrix = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
"""


def _environment(url: str | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != _VARIABLE}
    if url is not None:
        env[_VARIABLE] = url
    env.pop("COLUMNS", None)
    return env


def _run(
    args: list[str], cwd: Path, url_in_environment: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_environment(url_in_environment),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _runmeta(*args: str, cwd: Path, env_url: str | None = None) -> subprocess.CompletedProcess[str]:
    return _run(["-m", "monocycle_nash.runmeta", *args], cwd, env_url)


def _no_secret_below(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_the_cli_works_with_db_url_and_the_environment(project: Path, secret_url: str) -> None:
    """Every command finds the server by --db-url or RUNMETA_DATABASE_URL; no password shown."""
    added = _runmeta("--db-url", secret_url, "add-project", "--project-id", "p",
                     "--project-path", str(project), cwd=project)  # fmt: skip
    assert (added.returncode, added.stderr) == (0, "")
    opened = RunSessionService.open(project, database_url=secret_url)
    with opened as service, service.record("from python", project_id="p") as run:
        run.metrics["value"] = 0.25
    listed = _runmeta("list-runs", "--json", cwd=project, env_url=secret_url)
    assert (listed.returncode, listed.stderr) == (0, "")
    [run] = json.loads(listed.stdout)
    assert (run["run_id"], run["status"], run["metrics"]) == (1, "success", {"value": 0.25})
    outputs = [added, listed]
    for args in (
        ["update-run", "--run-id", "1", "--note", "checked"],
        ["show-run", "--run-id", "1"],
        ["list-projects"],
        ["check"],
        ["reap"],
        ["list-runs", "--where", "value>0.2"],
    ):
        done = _runmeta("--db-url", secret_url, *args, cwd=project)
        assert (args[0], done.returncode, done.stderr) == (args[0], 0, "")
        outputs.append(done)
    assert "checked" in outputs[2].stdout
    assert "consistent" in outputs[5].stdout
    assert not (project / ".runmeta").exists()  # no SQLite file was made on the way
    for done in outputs:
        assert SECRET not in done.stdout + done.stderr
    _no_secret_below(project)


def test_errors_name_the_database_without_its_password(project: Path, secret_url: str) -> None:
    """An unknown database, a newer schema: one line, exit 1, the URL shown without password."""
    missing = secret_url.replace("/test_", "/nothing_", 1)
    done = _runmeta("--db-url", missing, "list-runs", cwd=project)
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("runmeta: error: cannot open run database postgresql://")
    assert "does not exist" in line
    assert SECRET not in line

    RunSessionService.open(project, database_url=secret_url).close()
    with psycopg.connect(secret_url, autocommit=True) as raw:
        raw.execute("UPDATE runmeta_schema SET version = 99")
    done = _runmeta("list-runs", cwd=project, env_url=secret_url)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert f"has schema version 99, newer than the supported version {SCHEMA_VERSION}" in line
    assert SECRET not in line


def test_integrity_and_rebuild_are_refused_for_a_server(project: Path, secret_url: str) -> None:
    """check --integrity and rebuild are SQLite file operations: one line each, exit 1."""
    for args, said in (
        (["check", "--integrity"], "check --integrity"),
        (["rebuild"], "migrate-db"),
    ):
        done = _runmeta("--db-url", secret_url, *args, cwd=project)
        assert done.returncode == 1
        [line] = done.stderr.splitlines()
        assert "works on an SQLite database file" in line
        assert said in line
        assert SECRET not in line


def test_the_main_job_records_on_the_server_from_its_settings(
    project: Path, secret_url: str
) -> None:
    """[runmeta] database_url records the run there; the Details line names it."""
    public = DatabaseUrl(secret_url).public
    (project / "game.toml").write_text(_GAME, encoding="utf-8")
    (project / "run.toml").write_text(
        f'game = "game.toml"\n[runmeta]\ndatabase_url = "{public}"\n', encoding="utf-8"
    )
    done = _run(["-m", "monocycle_nash.app", "run.toml", "--root", str(project)], project)
    assert (done.returncode, done.stderr) == (0, "")
    details = next(line for line in done.stdout.splitlines() if line.startswith("Details:"))
    assert f"--db-url {public}" in details.replace("'", "")
    assert not (project / ".runmeta").exists()
    with RunSessionService.open(project, database_url=secret_url) as service:
        [run] = service.runs.list_runs()
        figures = service.runs.metrics(run.run_id)
    assert (run.run_id, run.status, figures["support_size"]) == (1, "success", 3)
    merged = (project / "result" / "1" / "input" / "merged_input.toml").read_text(encoding="utf-8")
    assert f'database_url = "{public}"' in merged


def test_a_password_in_the_settings_is_refused(project: Path, secret_url: str) -> None:
    """Settings are copied into every run folder: a URL with a password there is refused."""
    (project / "run.toml").write_text(
        f'[runmeta]\ndatabase_url = "{secret_url}"\n[game]\nlabels = ["A", "B"]\n'
        "matrix = [[0.0, 1.0], [-1.0, 0.0]]\n",
        encoding="utf-8",
    )
    done = _run(["-m", "monocycle_nash.app", "run.toml", "--root", str(project)], project)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "holds a password" in line
    assert "PGPASSWORD, ~/.pgpass or RUNMETA_DATABASE_URL" in line
    assert SECRET not in done.stdout + done.stderr
    _no_secret_below(project / "result")  # the run is recorded fail, without a copy of it


def test_the_environment_comes_before_the_settings(project: Path, secret_url: str) -> None:
    """With RUNMETA_DATABASE_URL set, a run config naming an SQLite file records on the server."""
    (project / "run.toml").write_text(
        '[runmeta]\ndb_path = "own.db"\n[game]\nlabels = ["A", "B"]\n'
        "matrix = [[0.0, 1.0], [-1.0, 0.0]]\n",
        encoding="utf-8",
    )
    done = _run(
        ["-m", "monocycle_nash.app", "run.toml", "--root", str(project)], project, secret_url
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert SECRET not in done.stdout
    _no_secret_below(project / "result")
    details = next(line for line in done.stdout.splitlines() if line.startswith("Details:"))
    assert "--db-url" not in details  # runmeta finds the server through the same variable
    assert not (project / "own.db").exists()
    with RunSessionService.open(project, database_url=secret_url) as service:
        assert [r.run_id for r in service.runs.list_runs()] == [1]


def test_a_url_without_the_driver_is_one_line(project: Path, secret_url: str) -> None:
    """Without psycopg the core still runs on SQLite; a URL says how to install the extra."""
    script = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"  # as if the postgres extra were not installed
        "from monocycle_nash.runmeta.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "assert not [name for name in sys.modules if name.startswith('psycopg')\n"
        "            and sys.modules[name] is not None]\n"
        "sys.exit(code)\n"
    )
    on_file = _run(["-c", script, "list-runs"], project)
    assert (on_file.returncode, on_file.stdout) == (0, "")  # no database yet: exit 0
    for env_url, args in ((None, ["--db-url", secret_url, "list-runs"]), (secret_url, ["reap"])):
        done = _run(["-c", script, *args], project, env_url)
        assert done.returncode == 1
        [line] = done.stderr.splitlines()
        assert line.startswith("runmeta: error: cannot open run database postgresql://")
        assert "pip install 'monocycle-nash[postgres]' (or uv sync --extra postgres)" in line
        assert SECRET not in line

    job = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "from monocycle_nash.app import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = _run(["-c", job, "--root", str(project)], project, secret_url)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("monocycle-nash: error: cannot open run database postgresql://")
    assert "monocycle-nash[postgres]" in line
    assert SECRET not in line


_MIGRATING = """
import sys, time
from pathlib import Path
from monocycle_nash.runmeta import RunSessionService
start = Path(sys.argv[2])
while not start.exists():
    time.sleep(0.002)
with RunSessionService.open(sys.argv[1]) as service, service.record("migrated"):
    pass
"""


def test_processes_migrating_an_empty_database_at_once(project: Path, secret_url: str) -> None:
    """Six processes open an empty database together: one schema, six runs, no error."""
    start = project / "start"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATING, str(project), str(start)],
            env=_environment(secret_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    time.sleep(0.5)  # let them all import and wait on the flag
    start.touch()
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 6, errors
    assert errors == [""] * 6
    with psycopg.connect(secret_url, autocommit=True) as raw:
        assert raw.execute("SELECT version FROM runmeta_schema").fetchall() == [(SCHEMA_VERSION,)]
        ids = [row[0] for row in raw.execute("SELECT run_id FROM runs ORDER BY run_id")]
    assert ids == [1, 2, 3, 4, 5, 6]


def test_rerun_records_on_the_server(project: Path, secret_url: str) -> None:
    """runmeta rerun hands the server to the main job: the new run lands beside the first."""
    first = _run(["-m", "monocycle_nash.app", "--root", str(project)], project, secret_url)
    assert (first.returncode, first.stderr) == (0, "")
    done = _runmeta("--db-url", secret_url, "rerun", "1", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Rerun of run 1: run 2 (success)." in done.stdout
    assert SECRET not in done.stdout + done.stderr
    with RunSessionService.open(project, database_url=secret_url) as service:
        assert [r.note for r in service.runs.list_runs()] == ["rerun of run 1", ""]
