"""The new ``runmeta`` options through real processes: figures recorded by a script, then
``list-runs --where/--search/--since/--columns/--format/--tz`` and ``--note-file -``."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import sys
    from monocycle_nash.runmeta import RunSessionService

    with RunSessionService.open(".") as service:
        with service.record("python solve.py rps.toml", note="rock paper scissors") as run:
            run.metrics["support_size"] = 3
            run.metrics["value"] = 0.0
            run.metrics["solver"] = "monocycle"
        try:
            with service.record("python solve.py broken.toml", note="typo"):
                raise ValueError("broken.toml: invalid TOML\\nat line 2")
        except ValueError:
            pass
        with service.record("python solve.py big.toml", note="a, \\"quoted\\" note") as run:
            run.metrics["support_size"] = 1
            run.metrics["value"] = -0.25
            run.metrics["converged"] = True
            run.metrics["bad"] = float("nan")
    """
)


def _env(**changes: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"COLUMNS", "RUNMETA_TZ"}}
    env.update(changes)
    return env


def _runmeta(
    cwd: Path, *argv: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monocycle_nash.runmeta", *argv],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose history a script recorded in its own process (runs 1 to 3)."""
    folder = tmp_path_factory.mktemp("history")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "metric 'bad': nan is not a finite number; not stored" in done.stderr
    return folder


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout


def _refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    """A usage error: exit 2, nothing on stdout, the usage and one error line on stderr."""
    assert (result.returncode, result.stdout) == (2, ""), result
    assert result.stderr.startswith("usage: runmeta ")
    assert "Traceback" not in result.stderr
    assert message in result.stderr.splitlines()[-1], result.stderr


def test_where_finds_the_figures_a_script_recorded(recorded: Path) -> None:
    """run.metrics set in record() by another process are found by --where."""
    out = _ok(_runmeta(recorded, "list-runs", "--where", "support_size=3", "--json"))
    assert [(run["run_id"], run["metrics"]["solver"]) for run in json.loads(out)] == [
        (1, "monocycle")
    ]
    out = _ok(_runmeta(recorded, "list-runs", "--where", "value<0 and converged=true"))
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["3"]


def test_result_column_for_figures_and_failures(recorded: Path) -> None:
    """The table's RESULT: figures for successes, the reason's first line for the failure."""
    out = _ok(_runmeta(recorded, "list-runs", "--columns", "run,status,result"))
    assert out.splitlines() == [
        "RUN  STATUS   RESULT",
        "  3  success  support 1, value -0.25, converged true",
        "  2  fail     ValueError: broken.toml: invalid TOML",
        "  1  success  support 3, value 0, solver monocycle",
    ]


def test_bad_where_is_one_usage_error(recorded: Path) -> None:
    """A condition outside the grammar: exit 2, the reason on the last line."""
    _refused(
        _runmeta(recorded, "list-runs", "--where", "solver<lp"),
        "argument --where: 'solver<lp': < compares numbers",
    )


def test_search(recorded: Path) -> None:
    """--search looks in notes, commands and reasons."""
    out = _ok(_runmeta(recorded, "list-runs", "--search", "INVALID", "--columns", "run"))
    assert out.split() == ["RUN", "2"]


def test_since_and_its_conflict_with_from(recorded: Path) -> None:
    """--since 1h keeps the runs just made; with --from it is a usage error."""
    out = _ok(_runmeta(recorded, "list-runs", "--since", "1h", "--columns", "run"))
    assert out.split() == ["RUN", "3", "2", "1"]
    _refused(
        _runmeta(recorded, "list-runs", "--since", "2d", "--from", "2026-01-01"),
        "--since and --from both set the start",
    )


def test_csv_and_tsv_parse(recorded: Path) -> None:
    """CSV parses with the csv module, TSV by splitting on tabs; both carry the figures."""
    columns = "run,note,metric:value,metric:converged,reason"
    out = _ok(_runmeta(recorded, "list-runs", "--format", "csv", "--columns", columns))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["run"], row["note"], row["metric:value"]) for row in rows] == [
        ("3", 'a, "quoted" note', "-0.25"),
        ("2", "typo", ""),
        ("1", "rock paper scissors", "0.0"),
    ]
    assert rows[1]["reason"] == "ValueError: broken.toml: invalid TOML"
    out = _ok(_runmeta(recorded, "list-runs", "--format", "tsv", "--columns", columns))
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0] == columns.split(",")
    assert lines[1] == ["3", 'a, "quoted" note', "-0.25", "true", ""]
    assert all(len(line) == 5 for line in lines)


def test_json_alias_and_metrics(recorded: Path) -> None:
    """--json is --format json; each run has reason and metrics; refused figures are absent."""
    out = _ok(_runmeta(recorded, "list-runs", "--json"))
    assert out == _ok(_runmeta(recorded, "list-runs", "--format", "json"))
    runs = json.loads(out)
    assert runs[0]["metrics"] == {"converged": True, "support_size": 1, "value": -0.25}
    assert runs[1]["metrics"] == {} and runs[1]["reason"].startswith("ValueError")


def test_tz_local_uses_the_system_zone_without_zone_data(recorded: Path) -> None:
    """--tz local follows TZ (a POSIX rule, no zone files needed); RUNMETA_TZ does the same."""
    stored = json.loads(_ok(_runmeta(recorded, "list-runs", "--json")))[-1]["created_at"]
    out = _ok(
        _runmeta(
            recorded,
            "list-runs",
            "--tz",
            "local",
            "--format",
            "csv",
            "--columns",
            "run,created",
            TZ="XYZ-03:00",
        )
    )
    assert out.splitlines()[-1] == f"1,{_shifted(stored, hours=-6)}"
    out = _ok(
        _runmeta(
            recorded, "list-runs", "--format", "csv", "--columns", "run,created", RUNMETA_TZ="UTC"
        )
    )
    assert out.splitlines()[-1] == f"1,{_shifted(stored, hours=-9)}"


def _shifted(stamp: str, *, hours: int) -> str:
    """A +09:00 stamp as the same instant in the zone ``hours`` from +09:00."""
    from datetime import datetime, timedelta, timezone  # noqa: PLC0415

    zone = timezone(timedelta(hours=9 + hours))
    return datetime.fromisoformat(stamp).astimezone(zone).isoformat(timespec="seconds")


def test_bad_tz_is_one_usage_error(recorded: Path) -> None:
    """An unknown zone, in --tz or RUNMETA_TZ: exit 2 naming where it came from."""
    _refused(
        _runmeta(recorded, "list-runs", "--tz", "Mars/Base"), "argument --tz: unknown time zone"
    )
    _refused(_runmeta(recorded, "show-run", "--run-id", "1", RUNMETA_TZ="Mars/Base"), "RUNMETA_TZ")


def test_note_file_from_standard_input(recorded: Path) -> None:
    """update-run --note-file - reads the note from stdin, less its final newline."""
    out = _ok(
        _runmeta(
            recorded, "update-run", "--run-id", "2", "--note-file", "-", stdin="typo in input\n"
        )
    )
    assert out == "updated run 2 (fail, no project, note 'typo in input')\n"
    meta = json.loads((recorded / "result" / "2" / "meta.json").read_text(encoding="utf-8"))
    assert meta["note"] == "typo in input"
    _refused(
        _runmeta(recorded, "update-run", "--run-id", "2", "--note-file", "nope.txt"),
        "--note-file nope.txt: No such file or directory",
    )


def test_add_project_note_file(recorded: Path) -> None:
    """add-project --note-file PATH, in its own process."""
    (recorded / "note.txt").write_text("roster sweep\n", encoding="utf-8")
    _ok(
        _runmeta(
            recorded,
            "add-project",
            "--project-id",
            "sweep",
            "--project-path",
            ".",
            "--note-file",
            "note.txt",
        )
    )
    projects = json.loads(_ok(_runmeta(recorded, "list-projects", "--json")))
    assert [(p["project_id"], p["note"]) for p in projects] == [("sweep", "roster sweep")]
