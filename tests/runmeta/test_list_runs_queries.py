"""``runmeta list-runs`` questions, in-process: --where, --search, --since, --columns,
--format, --tz (and show-run/list-projects --tz), --note-file, and their query plans."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta.clock import FixedClock, JstClock
from monocycle_nash.runmeta.db import SQLiteConnectionFactory
from monocycle_nash.runmeta.metrics import MetricCondition, parse_where
from monocycle_nash.runmeta.repositories import RunsRepository
from monocycle_nash.runmeta.service import RunSessionService

from .backend_support import Backend
from .cli_support import cli, get_run, usage_error


@pytest.fixture
def history(service: RunSessionService) -> RunSessionService:
    """Four runs 20 s apart from 2026-02-14T19:30:12+09:00: figures, a failure, none.

    1 success 'rock paper scissors': support_size 3, value 0.0, solver monocycle, converged
    2 fail 'typo': reason 'ValueError: broken.toml: invalid TOML' (first line), no figures
    3 success '100% done_x': support_size 1, value -0.25, exploitability 1.2e-12, solver lp
    4 success 'plain' (python other.py): no figures
    """
    with service.record("python solve.py rps.toml", note="rock paper scissors") as run:
        run.metrics.update(support_size=3, value=0.0, solver="monocycle", converged=True)
    with pytest.raises(ValueError), service.record("python solve.py broken.toml", note="typo"):
        raise ValueError("broken.toml: invalid TOML\nat line 2")
    with service.record("python solve.py big.toml", note="100% done_x") as run:
        run.metrics.update(support_size=1, value=-0.25, exploitability=1.2e-12, solver="lp")
    with service.record("python other.py", note="plain"):
        pass
    return service


def _ids(capsys: pytest.CaptureFixture[str], *argv: str) -> list[int]:
    """The run ids that ``list-runs ARGV --format json`` prints, in order."""
    code, out, err = cli(capsys, "list-runs", *argv, "--format", "json")
    assert (code, err) == (0, ""), err
    return [item["run_id"] for item in json.loads(out)]


# --- the result column --------------------------------------------------------------------


def test_default_table_has_a_result_column(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """RESULT comes between NOTE and COMMAND; figures, a failure's reason, or '-'."""
    code, out, err = cli(capsys, "list-runs")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "RUN",
        "STATUS",
        "CREATED",
        "(+09:00)",
        "DURATION",
        "PROJECT",
        "NOTE",
        "RESULT",
        "COMMAND",
    ]
    assert "support 1, value -0.25, e..." in lines[2]  # capped at 28 cells
    by_id = {int(line.split()[0]): line for line in lines[1:]}
    assert by_id[4].split()[6:] == ["plain", "-", "python", "other.py"]
    assert "ValueError: broken.toml: ..." in by_id[2]
    assert "support 3, value 0, conve..." in by_id[1]


def test_result_text_in_full_as_the_last_column(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the last column, RESULT is not capped: well-known figures first, then by key."""
    code, out, err = cli(capsys, "list-runs", "--columns", "run,result")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "RUN  RESULT",
        "  4  -",
        "  3  support 1, value -0.25, exploitability 1.2e-12, solver lp",
        "  2  ValueError: broken.toml: invalid TOML",
        "  1  support 3, value 0, converged true, solver monocycle",
    ]


# --- --where ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        pytest.param(["support_size=3"], [1], id="equal"),
        pytest.param(["support_size>=1"], [3, 1], id="at-least"),
        pytest.param(["value<0"], [3], id="negative"),
        pytest.param(["value <= 0"], [3, 1], id="spaces"),
        pytest.param(["support_size!=3"], [3], id="not-equal-only-runs-with-it"),
        pytest.param(["exploitability<1e-9"], [3], id="exponent"),
        pytest.param(["solver=lp"], [3], id="text"),
        pytest.param(["solver!=lp"], [1], id="text-not-equal"),
        pytest.param(["solver~MONO"], [1], id="text-contains-any-case"),
        pytest.param(['solver="lp"'], [3], id="quoted-text"),
        pytest.param(["support_size='3'"], [], id="quoted-number-is-text"),
        pytest.param(["converged=true"], [1], id="boolean-as-text"),
        pytest.param(["converged=1"], [1], id="boolean-as-number"),
        pytest.param(["value<0.5 and support_size=3"], [1], id="and"),
        pytest.param(["value<0.5, solver=lp"], [3], id="comma"),
        pytest.param(["value<0.5", "solver=monocycle"], [1], id="repeated-option"),
        pytest.param(["missing=1"], [], id="no-such-figure"),
        pytest.param(["support_size>1e400"], None, id="infinite-refused"),
    ],
)
def test_where_selects_runs_by_their_figures(
    history: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    conditions: list[str],
    expected: list[int] | None,
) -> None:
    """Numbers compare numerically, text with = != ~; runs without the figure never match."""
    argv = [part for condition in conditions for part in ("--where", condition)]
    if expected is None:
        err = usage_error(capsys, "list-runs", *argv)
        assert "not a finite number" in err
        return
    assert _ids(capsys, *argv) == expected


# Refused before any database is opened (the injection case is bound: below).
@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    ("condition", "message"),
    [
        pytest.param("solver<lp", "< compares numbers, and 'lp' is not one", id="order-on-text"),
        pytest.param("support_size=>3", "one operator only", id="two-operators"),
        pytest.param("=3", "a condition starts with a key", id="no-key"),
        pytest.param("support_size", "expected one of = != < <= > >= ~", id="no-operator"),
        pytest.param("support_size=", "no value after '='", id="no-value"),
        pytest.param("a=1,", "nothing after the last ',' or 'and'", id="trailing-comma"),
        pytest.param("solver='lp", "the quote ' is not closed", id="open-quote"),
        pytest.param("x" * 65 + "=1", "longer than 64 characters", id="long-key"),
        pytest.param("", "an empty condition", id="empty"),
        pytest.param("a=1; DROP TABLE runs", "", id="injection-is-just-text"),
    ],
)
def test_where_refuses_what_is_not_in_the_grammar(
    history: RunSessionService, capsys: pytest.CaptureFixture[str], condition: str, message: str
) -> None:
    """A condition outside the grammar is a usage error (exit 2) saying what is wrong."""
    if not message:  # a valid condition whose value is the text "1; DROP TABLE runs"
        assert _ids(capsys, "--where", condition) == []
        assert get_run(1).run_id == 1
        return
    err = usage_error(capsys, "list-runs", "--where", condition)
    assert f"argument --where: {message}" in err or message in err.splitlines()[-1], err


def test_parse_where_reads_types_and_operators() -> None:
    """parse_where: ints, floats, words, quoted texts; '~' always text."""
    assert parse_where("a=3, b>-0.5 and c~07, d='3', e=lp x") == [
        MetricCondition("a", "=", 3),
        MetricCondition("b", ">", -0.5),
        MetricCondition("c", "~", "07"),
        MetricCondition("d", "=", "3"),
        MetricCondition("e", "=", "lp x"),
    ]


def test_where_values_are_bound_never_spliced(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SQL of a --where holds only placeholders where the key and the value go."""
    runs = history.runs
    assert runs.list_runs(where=parse_where('solver="x\' OR 1=1 --"')) == []
    from monocycle_nash.runmeta.repositories import _Filters, _run_filters  # noqa: PLC0415

    clause, params = _run_filters(
        _Filters(None, None, None, None, None, None, parse_where('solver="x\' --"'))
    )
    assert "x'" not in clause and params == ["solver", "x' --"]


# --- --search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("100%", [3], id="percent-is-literal"),
        pytest.param("done_x", [3], id="underscore-is-literal"),
        pytest.param("d_ne", [], id="underscore-not-a-wildcard"),
        pytest.param("100_", [], id="underscore-not-one-character"),
        pytest.param("INVALID toml", [2], id="reason-any-case"),
        pytest.param("OTHER.PY", [4], id="command"),
        pytest.param("rock", [1], id="note"),
        pytest.param("solve.py", [3, 2, 1], id="several"),
        pytest.param("\\", [], id="backslash"),
    ],
)
def test_search_finds_text_in_note_command_or_reason(
    history: RunSessionService, capsys: pytest.CaptureFixture[str], text: str, expected: list[int]
) -> None:
    """--search is a case-insensitive substring; % and _ are plain characters."""
    assert _ids(capsys, "--search", text) == expected


def test_filters_combine(history: RunSessionService, capsys: pytest.CaptureFixture[str]) -> None:
    """--where, --search, --status and --limit go together."""
    assert _ids(capsys, "--where", "support_size>0", "--search", "solve", "--limit", "1") == [3]
    assert _ids(capsys, "--status", "fail", "--search", "toml") == [2]
    runs = history.runs
    assert runs.count_runs(where=parse_where("support_size>0"), search="solve") == 2


# --- --since, --from, --to ----------------------------------------------------------------


def test_since_keeps_recent_runs(
    service: RunSessionService, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """--since 1h keeps a run made now, not one from February; a huge age keeps both."""
    with service.record("python old.py"):
        pass
    with (
        backend.open_service(clock=JstClock(), git_probe=lambda: None) as now,
        now.record("python new.py"),
    ):
        pass
    assert _ids(capsys, "--since", "1h") == [2]
    assert _ids(capsys, "--since", "90m") == [2]
    assert _ids(capsys, "--since", "1w2d") == [2]
    assert _ids(capsys, "--since", "99999999w") == [2, 1]
    assert _ids(capsys, "--since", "99999999w", "--to", "2026-03-01") == [1]
    err = usage_error(capsys, "list-runs", "--since", "1h", "--to", "2026-03-01")
    assert "is later than --to" in err


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--since", "2x"], "is not an age", id="bad-unit"),
        pytest.param(["--since", "0d"], "is not an age", id="zero"),
        pytest.param(["--since", "d"], "is not an age", id="no-number"),
        pytest.param(["--since", "-2d"], "expected one argument", id="negative"),
        pytest.param(
            ["--since", "2d", "--from", "2026-01-01"], "--since and --from", id="with-from"
        ),
        pytest.param(["--from", "yesterday"], "argument --from: 'yesterday' is not", id="from"),
        pytest.param(
            ["--from", "2026-03-01", "--to", "2026-02-01"], "is later than --to", id="reversed"
        ),
    ],
)
def test_time_refusals(
    history: RunSessionService, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad ages, --since with --from, bad or reversed bounds: usage errors (exit 2)."""
    err = usage_error(capsys, "list-runs", *argv)
    assert message in err, err


# --- --columns and --format ---------------------------------------------------------------


def test_columns_choose_and_order(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--columns picks columns (metric:KEY too) in the order given; '-' for a missing figure."""
    code, out, err = cli(
        capsys,
        "list-runs",
        "--columns",
        "metric:support_size, Run ,status,metric:solver,reason",
        "--limit",
        "3",
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "support_size  RUN  STATUS   solver  REASON",
        "           -    4  success       -  -",
        "           1    3  success      lp  -",
        "           -    2  fail          -  ValueError: broken.toml: invalid TOML",
    ]


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("columns", "message"),
    [
        pytest.param("run,size", "unknown column 'size'", id="unknown"),
        pytest.param("run,metric:", "metric:KEY needs a key", id="empty-key"),
        pytest.param("run,metric:a b", "metric:KEY needs a key", id="bad-key"),
        pytest.param("run,,status", "unknown column ''", id="empty"),
    ],
)
def test_columns_refusals(
    history: RunSessionService, capsys: pytest.CaptureFixture[str], columns: str, message: str
) -> None:
    """An unknown column or a bad metric key is a usage error naming it."""
    err = usage_error(capsys, "list-runs", "--columns", columns)
    assert message in err, err


def test_csv_is_exact_and_parseable(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """CSV: header, quoted where needed, ISO times, seconds, exact figures."""
    columns = "run,status,created,duration,note,result,metric:value,metric:converged,reason"
    code, out, err = cli(capsys, "list-runs", "--format", "csv", "--columns", columns)
    assert (code, err) == (0, "")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == columns.split(",")
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id["3"]["note"] == "100% done_x"
    assert by_id["3"]["metric:value"] == "-0.25"
    assert by_id["1"]["metric:value"] == "0.0"
    assert by_id["1"]["metric:converged"] == "true"
    assert by_id["1"]["result"] == "support 3, value 0, converged true, solver monocycle"
    assert by_id["2"]["reason"] == "ValueError: broken.toml: invalid TOML"
    assert by_id["2"]["metric:value"] == ""
    assert by_id["1"]["created"] == "2026-02-14T19:30:12+09:00"
    assert by_id["1"]["duration"].isdigit()
    assert '"support 3, value 0, converged true, solver monocycle"' in out


def test_tsv_escapes_tabs_and_newlines(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """TSV: one line per run; tab, newline and backslash in a note become \\t, \\n, \\\\."""
    with service.record("python x.py", note="a\tb\nc\\d\x1b[31m"):
        pass
    code, out, err = cli(capsys, "list-runs", "--format", "tsv", "--columns", "run,note,status")
    assert (code, err) == (0, "")
    assert out == "run\tnote\tstatus\n1\ta\\tb\\nc\\\\d\\x1b[31m\tsuccess\n"


def test_json_has_reason_and_metrics(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON (and --json, its alias) adds reason and metrics to each run, stored times as is."""
    code, out, err = cli(capsys, "list-runs", "--json", "--tz", "UTC")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert cli(capsys, "list-runs", "--format", "json")[1] == out
    first = data[-1]
    assert list(first)[-3:] == ["parent_run_id", "reason", "metrics"]
    assert first["metrics"] == {
        "converged": True,
        "solver": "monocycle",
        "support_size": 3,
        "value": 0.0,
    }
    assert first["created_at"] == "2026-02-14T19:30:12+09:00"
    assert data[2]["reason"] == "ValueError: broken.toml: invalid TOML"
    assert data[0]["metrics"] == {}


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--json", "--format", "csv"], "not allowed with argument", id="json-and-csv"),
        pytest.param(["--format", "xml"], "invalid choice: 'xml'", id="unknown-format"),
        pytest.param(["--json", "--columns", "run"], "--columns chooses", id="json-columns"),
    ],
)
def test_format_refusals(
    history: RunSessionService, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Contradicting output options are usage errors."""
    err = usage_error(capsys, "list-runs", *argv)
    assert message in err, err


@pytest.mark.backends("sqlite")  # a database file that does not exist: SQLite's case
@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param("json", "[]\n", id="json"),
        pytest.param("csv", "run,status\n", id="csv"),
        pytest.param("tsv", "run\tstatus\n", id="tsv"),
        pytest.param("table", "", id="table"),
    ],
)
def test_without_a_database(
    workspace: Path, capsys: pytest.CaptureFixture[str], output: str, expected: str
) -> None:
    """No database: JSON [], CSV/TSV their header, a table nothing; one line on stderr."""
    code, out, err = (
        cli(capsys, "list-runs", "--format", output, "--columns", "run,status")
        if output != "json"
        else cli(capsys, "list-runs", "--format", "json")
    )
    assert (code, out) == (0, expected)
    assert err.startswith("runmeta: no run database at")
    assert not (workspace / ".runmeta").exists()


# --- --tz ---------------------------------------------------------------------------------


def test_tz_shows_times_in_another_zone(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--tz UTC: the header names the zone, times move by 9 hours; CSV keeps the offset."""
    code, out, err = cli(capsys, "list-runs", "--tz", "UTC", "--columns", "run,created,ended")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["RUN", "CREATED", "(UTC)", "ENDED", "(UTC)"]
    assert lines[-1].split()[:3] == ["1", "2026-02-14", "10:30:12"]
    code, out, _ = cli(
        capsys, "list-runs", "--tz=-05:30", "--format", "csv", "--columns", "run,created"
    )
    assert out.splitlines()[-1] == "1,2026-02-14T05:00:12-05:30"


def test_tz_from_environment_and_named_zones(
    history: RunSessionService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """RUNMETA_TZ applies when --tz is not given; --tz wins; a named zone has DST rules."""
    pytest.importorskip("zoneinfo").ZoneInfo("Europe/Paris")  # needs the system's zone data
    monkeypatch.setenv("RUNMETA_TZ", "Europe/Paris")
    _, out, _ = cli(capsys, "list-runs", "--columns", "run,created", "--limit", "1")
    assert out.splitlines() == ["RUN  CREATED (Europe/Paris)", "  4  2026-02-14 11:31:12"]
    _, out, _ = cli(capsys, "list-runs", "--columns", "run,created", "--limit", "1", "--tz", "JST")
    assert out.splitlines() == ["RUN  CREATED (+09:00)", "  4  2026-02-14 19:31:12"]


def test_tz_reads_from_and_to_in_that_zone(
    history: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --from without an offset is a time in the --tz zone; one with an offset is exact."""
    assert _ids(capsys, "--tz", "UTC", "--from", "2026-02-14 10:30:22") == [4, 3, 2]
    assert _ids(capsys, "--tz", "UTC", "--to", "2026-02-14T10:30:32") == [2, 1]
    assert _ids(capsys, "--tz", "UTC", "--from", "2026-02-14T19:30:32+09:00") == [4, 3, 2]
    assert _ids(capsys, "--tz", "+09:00", "--from", "2026-02-14 19:30:42") == [4, 3]
    assert _ids(capsys, "--tz", "UTC", "--from", "2026-02-15") == []
    assert _ids(capsys, "--tz", "UTC", "--from", "2026-02-14") == [4, 3, 2, 1]


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("argv", "environment", "message"),
    [
        pytest.param(["--tz", "Mars/Base"], None, "argument --tz: unknown time zone", id="name"),
        pytest.param(["--tz", "+25:00"], None, "is not an offset", id="offset"),
        pytest.param(["--tz", ""], None, "an empty time zone", id="empty"),
        pytest.param([], "Mars/Base", "RUNMETA_TZ: unknown time zone 'Mars/Base'", id="env"),
    ],
)
def test_tz_refusals(  # noqa: PLR0917 - fixtures and parameters
    history: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environment: str | None,
    message: str,
) -> None:
    """A zone that cannot be read is a usage error naming where it came from."""
    if environment is not None:
        monkeypatch.setenv("RUNMETA_TZ", environment)
    err = usage_error(capsys, "list-runs", *argv)
    assert message in err, err


def test_show_run_and_list_projects_take_tz(
    history: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """show-run's row times and list-projects' creation times follow --tz; JSON does not."""
    code, out, err = cli(capsys, "show-run", "--run-id", "1", "--tz", "UTC")
    assert (code, err) == (0, "")
    assert "  created     2026-02-14T10:30:12+00:00" in out.splitlines()
    assert '"created_at": "2026-02-14T19:30:12+09:00"' in out  # meta.json as stored
    code, out, err = cli(capsys, "show-run", "--run-id", "1", "--tz", "UTC", "--json")
    assert json.loads(out)["run"]["created_at"] == "2026-02-14T19:30:12+09:00"
    project = history.ensure_project("p", workspace)
    assert project.created_at == "2026-02-14T19:31:32+09:00"
    code, out, err = cli(capsys, "list-projects", "--tz", "UTC")
    assert (code, err) == (0, "")
    assert out.splitlines()[0].split()[:3] == ["PROJECT", "CREATED", "(UTC)"]
    assert out.splitlines()[1].split()[1:3] == ["2026-02-14", "10:31:32"]


# --- --note-file --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"first line\nsecond\n", "first line\nsecond", id="one-newline-dropped"),
        pytest.param(b"two\n\n", "two\n", id="only-one"),
        pytest.param(b"windows\r\n", "windows", id="crlf"),
        pytest.param(b"", "", id="empty-clears"),
        pytest.param("日本語\n".encode(), "日本語", id="utf-8"),
    ],
)
def test_update_run_note_file(
    history: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    content: bytes,
    expected: str,
) -> None:
    """update-run --note-file PATH stores the file's text, less one final newline."""
    (workspace / "note.txt").write_bytes(content)
    code, _, err = cli(capsys, "update-run", "--run-id", "4", "--note-file", "note.txt")
    assert (code, err) == (0, "")
    assert get_run(4).note == expected


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--note-file", "missing.txt"], "--note-file missing.txt: No such file", id="missing"
        ),
        pytest.param(["--note-file", "latin1.txt"], "is not valid UTF-8", id="not-utf8"),
        pytest.param(["--note-file", "."], "--note-file .: Is a directory", id="folder"),
        pytest.param(["--note", "x", "--note-file", "n"], "not allowed with argument", id="both"),
    ],
)
def test_note_file_refusals(
    history: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    argv: list[str],
    message: str,
) -> None:
    """An unreadable note file, or --note with --note-file, is a usage error; nothing changes."""
    (workspace / "latin1.txt").write_bytes(b"caf\xe9")
    err = usage_error(capsys, "update-run", "--run-id", "4", *argv)
    assert message in err, err
    assert get_run(4).note == "plain"


def test_project_commands_take_note_file(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """add-project and update-project read --note-file too."""
    (workspace / "a.txt").write_text("sweep of p\n", encoding="utf-8")
    (workspace / "b.txt").write_text("sweep of q\n", encoding="utf-8")
    assert (
        cli(
            capsys,
            "add-project",
            "--project-id",
            "p",
            "--project-path",
            ".",
            "--note-file",
            "a.txt",
        )[0]
        == 0
    )
    _, out, _ = cli(capsys, "list-projects", "--json")
    assert json.loads(out)[0]["note"] == "sweep of p"
    assert cli(capsys, "update-project", "--project-id", "p", "--note-file", "b.txt")[0] == 0
    _, out, _ = cli(capsys, "list-projects", "--json")
    assert json.loads(out)[0]["note"] == "sweep of q"


# --- query plans --------------------------------------------------------------------------


@pytest.fixture
def plans(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """600 runs; each has support_size (1, 2, 3 in turn), value i/600 and solver lp|mono."""
    connection = SQLiteConnectionFactory(tmp_path / "run_history.db").connect()
    connection.executemany(
        "INSERT INTO runs (created_at, started_at, status, command, updated_at)"
        " VALUES (?1, ?1, 'success', 'cmd', ?1)",
        [(f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00+09:00",) for i in range(600)],
    )
    runs = RunsRepository(connection)
    for run_id in range(1, 601):
        solver = "lp" if run_id % 2 else "mono"
        runs.set_metrics(
            run_id, {"support_size": 1 + run_id % 3, "value": run_id / 600, "solver": solver}
        )
    yield connection
    connection.close()


def _plan(conn: sqlite3.Connection, where: str, limit: int | None) -> list[str]:
    """EXPLAIN QUERY PLAN of the listing SELECT that list_runs(where=...) runs."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        RunsRepository(conn).list_runs(where=parse_where(where), limit=limit)
    finally:
        conn.set_trace_callback(None)
    select = [sql for sql in statements if sql.startswith("SELECT r.run_id")][-1]
    return [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {select}")]


@pytest.mark.parametrize("where", ["support_size=3", "solver=lp", "solver~l"])
def test_a_common_condition_walks_the_runs_in_order(plans: sqlite3.Connection, where: str) -> None:
    """A page where many runs match: the created_at index in order, each figure by key."""
    plan = _plan(plans, where, 50)
    assert plan[0] == "SCAN r USING INDEX idx_runs_created_at", plan
    assert "SEARCH m USING PRIMARY KEY (run_id=? AND key=?)" in plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize(
    ("where", "index"),
    [
        pytest.param("value>0.99", "idx_run_metrics_key_number (key=? AND number>?)", id="number"),
        pytest.param("solver=none", "idx_run_metrics_key_text (key=? AND text=?)", id="text"),
    ],
)
def test_a_rare_condition_reads_the_figures_index(
    plans: sqlite3.Connection, where: str, index: str
) -> None:
    """A page where few runs match: those runs are read from the figures' index, then sorted."""
    plan = _plan(plans, where, 50)
    assert f"SEARCH m USING COVERING INDEX {index}" in plan, plan
    assert plan[0] == "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)", plan


def test_plans_give_the_same_runs(plans: sqlite3.Connection) -> None:
    """Whichever way the search goes, the answer is the same, newest first."""
    runs = RunsRepository(plans)
    rare = runs.list_runs(where=parse_where("value>0.99"))
    assert [run.run_id for run in rare] == [600, 599, 598, 597, 596, 595]
    both = runs.list_runs(where=parse_where("value>0.99 and support_size=1"), limit=50)
    assert [run.run_id for run in both] == [600, 597]
    assert runs.count_runs(where=parse_where("support_size=3")) == 200


@pytest.mark.backends("sqlite")  # the fixture's clock: no database question
def test_a_pinned_clock_for_the_history(service: RunSessionService) -> None:
    """The history fixture's clock is pinned (so its times above are exact)."""
    assert isinstance(service.clock, FixedClock)


# --- zones (clock.parse_zone) and bounds in a zone ---------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "offset_hours"),
    [
        pytest.param("UTC", "UTC", 0.0, id="utc"),
        pytest.param("z", "UTC", 0.0, id="z"),
        pytest.param("+00:00", "UTC", 0.0, id="zero-offset"),
        pytest.param("JST", "+09:00", 9.0, id="jst"),
        pytest.param("+9", "+09:00", 9.0, id="short-offset"),
        pytest.param("-0530", "-05:30", -5.5, id="compact-offset"),
        pytest.param(" +02:00 ", "+02:00", 2.0, id="spaces"),
    ],
)
def test_parse_zone_fixed_zones(text: str, label: str, offset_hours: float) -> None:
    """UTC, JST and offsets need no zone data; +09:00 is the storage zone itself."""
    from datetime import datetime  # noqa: PLC0415

    from monocycle_nash.runmeta.clock import JST, parse_zone  # noqa: PLC0415

    zone = parse_zone(text)
    assert zone.label == label
    moment = zone.convert(datetime(2026, 2, 14, 19, 30, tzinfo=JST))
    offset = moment.utcoffset()
    assert offset is not None and offset.total_seconds() == offset_hours * 3600
    assert zone.is_storage == (offset_hours == 9.0)


def test_parse_bound_in_a_zone_with_daylight_saving() -> None:
    """A date in Europe/Paris starts at its own midnight: UTC+1 in winter, UTC+2 in summer."""
    pytest.importorskip("zoneinfo").ZoneInfo("Europe/Paris")
    from monocycle_nash.runmeta.cli import parse_bound  # noqa: PLC0415
    from monocycle_nash.runmeta.clock import parse_zone  # noqa: PLC0415

    paris = parse_zone("Europe/Paris")
    assert parse_bound("2026-01-15", end=False, zone=paris) == "2026-01-15T08:00:00+09:00"
    assert parse_bound("2026-07-15", end=False, zone=paris) == "2026-07-15T07:00:00+09:00"
    assert parse_bound("2026-07-15", end=True, zone=paris) == "2026-07-16T06:59:59+09:00"
    assert parse_bound("2026-07-15T12:00Z", end=False, zone=paris) == "2026-07-15T21:00:00+09:00"


def test_parse_bound_in_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """--tz local reads a naive time as the system's local time (here TZ=XYZ-03:00)."""
    import time  # noqa: PLC0415

    from monocycle_nash.runmeta.cli import parse_bound  # noqa: PLC0415
    from monocycle_nash.runmeta.clock import parse_zone  # noqa: PLC0415

    if not hasattr(time, "tzset"):
        pytest.skip("no time.tzset on this system")
    monkeypatch.setenv("TZ", "XYZ-03:00")
    time.tzset()
    try:
        local = parse_zone("local")
        assert parse_bound("2026-02-14 12:00", end=False, zone=local) == (
            "2026-02-14T18:00:00+09:00"
        )
    finally:
        monkeypatch.undo()
        time.tzset()
