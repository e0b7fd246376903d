"""Tests of the ``runmeta`` parser, its global options, help texts and error mapping."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from monocycle_nash.runmeta import cli
from monocycle_nash.runmeta.cli import CommandContext, Subcommand, UsageError, build_parser, main
from monocycle_nash.runmeta.errors import RunMetaError

SUBCOMMAND_NAMES = (
    "list-runs",
    "show-run",
    "update-run",
    "delete-run",
    "add-project",
    "update-project",
    "delete-project",
    "list-projects",
    "reap",
    "check",
    "rebuild",
    "migrate-db",
    "diff",
    "rerun",
    "ui",
)


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise AssertionError("no subcommands")


def test_every_subcommand_and_option_has_help_text() -> None:
    """Each subcommand has a summary in runmeta --help and every option has a help text."""
    subparsers = _subparsers(build_parser())
    assert tuple(subparsers.choices) == SUBCOMMAND_NAMES
    summaries = {choice.dest: choice.help for choice in subparsers._choices_actions}
    for name, parser in subparsers.choices.items():
        assert summaries[name], name
        assert parser.description, name
        for action in parser._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in SUBCOMMAND_NAMES])
def test_subcommand_help_exits_0_on_stdout(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """runmeta NAME --help prints the subcommand's usage on stdout and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 0
    assert captured.err == ""
    assert captured.out.startswith(f"usage: runmeta {name} ")
    assert "--db-path PATH" in captured.out


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["--help", "list-runs"], id="help-before-subcommand"),
        pytest.param(["--db-path", "x.db", "-h"], id="global-option-then-help"),
    ],
)
def test_top_level_help_lists_every_subcommand(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """runmeta --help lists all subcommands, even when a subcommand name follows it."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    assert exit_info.value.code == 0
    assert captured.out.startswith("usage: runmeta [-h]")
    for name in SUBCOMMAND_NAMES:
        assert f"    {name} " in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param([], "required: SUBCOMMAND", id="none"),
        pytest.param(["list-run"], "invalid choice: 'list-run'", id="typo"),
        pytest.param(["--db", "x", "list-runs"], "invalid choice: 'x'", id="no-abbreviation"),
    ],
)
def test_missing_or_unknown_subcommand_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a known subcommand runmeta prints usage on stderr and exits 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert message in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--db-path", "", "list-runs"], "--db-path: an empty path", id="empty-db"),
        pytest.param(["list-runs", "--result-root", " "], "--result-root: an empty",
                     id="empty-root"),
        pytest.param(["--result-root", "notes.txt", "check"], "notes.txt is a file",
                     id="file-root"),
        pytest.param(
            ["delete-run", "--run-id", "1", "--with-files", "--result-root", "notes.txt"],
            "--result-root: notes.txt is a file, not a folder",
            id="file-root-delete",
        ),
    ],
)  # fmt: skip
def test_bad_global_option_values_are_usage_errors(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An empty --db-path or --result-root, or a file as result root: exit 2, nothing opened."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert message in captured.err.splitlines()[-1]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("argv", "db_path", "result_root"),
    [
        # No --db-path given: None, so that RUNMETA_DATABASE_URL can come before the default.
        pytest.param(["list-runs"], None, "result", id="defaults"),
        pytest.param(["--db-path", "a.db", "list-runs"], "a.db", "result", id="before"),
        pytest.param(["list-runs", "--db-path", "b.db"], "b.db", "result", id="after"),
        pytest.param(["--db-path", "a.db", "list-runs", "--db-path", "b.db"], "b.db", "result",
                     id="after-wins"),
        pytest.param(["--result-root=out", "show-run", "--run-id", "1"], None, "out",
                     id="equals-form"),
        pytest.param(["--db-path", "list-runs", "list-runs"], "list-runs", "result",
                     id="value-looks-like-subcommand"),
        pytest.param(["--result-root", "r", "update-run", "--run-id", "1", "--db-path", "d"],
                     "d", "r", id="split"),
    ],
)  # fmt: skip
def test_global_options_before_or_after_the_subcommand(
    argv: list[str], db_path: str | None, result_root: str
) -> None:
    """--db-path and --result-root work on either side of the subcommand; the later one wins."""
    args = build_parser().parse_args(argv)
    assert (args.db_path, args.result_root) == (db_path, result_root)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["list-runs"], id="list-runs"),
        pytest.param(["show-run", "--run-id", "1"], id="show-run"),
        pytest.param(["update-run", "--run-id", "1", "--note", "x"], id="update-run"),
        pytest.param(["delete-run", "--run-id", "1"], id="delete-run"),
        pytest.param(["add-project", "--project-id", "p", "--project-path", "."], id="add-project"),
        pytest.param(["update-project", "--project-id", "p", "--note", "x"], id="update-project"),
        pytest.param(["delete-project", "--project-id", "p"], id="delete-project"),
        pytest.param(["list-projects"], id="list-projects"),
        pytest.param(["reap"], id="reap"),
        pytest.param(["check"], id="check"),
    ],
)
def test_every_subcommand_reports_a_database_error_in_one_line(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A database that cannot be used: every subcommand exits 1 with one stderr line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "history.db").write_bytes(b"not a database at all, just text" * 10)
    code = main(["--db-path", "history.db", *argv])
    captured = capsys.readouterr()
    assert (code, captured.out) == (1, "")
    assert captured.err.startswith("runmeta: error: cannot open run database history.db")
    assert captured.err.count("\n") == 1


opened: list[sqlite3.Connection] = []


def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail", action="store_true", help="raise a RunMetaError")
    parser.add_argument("--usage", action="store_true", help="raise a UsageError")
    parser.add_argument("--interrupt", action="store_true", help="raise KeyboardInterrupt")


def _probe(args: argparse.Namespace, context: CommandContext) -> int:
    opened.append(context.connection())
    if args.fail:
        raise RunMetaError("the probe refused")
    if args.usage:
        raise UsageError("the probe wants other options")
    if args.interrupt:
        raise KeyboardInterrupt
    print(f"probe at {context.db_path} and {context.result_root}")
    return 0


PROBE = Subcommand("probe", "a subcommand added by a test", _probe_arguments, _probe)


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[sqlite3.Connection]:
    """Adds a 'probe' subcommand to SUBCOMMANDS, the way every subcommand is added."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, PROBE))
    opened.clear()
    return opened


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        pytest.param([], (0, "probe at db.sqlite and res\n", ""), id="success"),
        pytest.param(["--fail"], (1, "", "runmeta: error: the probe refused\n"), id="refused"),
        pytest.param(["--interrupt"], (130, "", ""), id="interrupted"),
    ],
)
def test_a_registered_subcommand_runs_and_maps_errors(
    probe: list[sqlite3.Connection],
    capsys: pytest.CaptureFixture[str],
    flag: list[str],
    expected: tuple[int, str, str],
) -> None:
    """A subcommand added to SUBCOMMANDS runs; errors map to exit codes; the connection closes."""
    code = main(["--db-path", "db.sqlite", "probe", "--result-root", "res", *flag])
    captured = capsys.readouterr()
    assert (code, captured.out, captured.err) == expected
    assert len(probe) == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        probe[0].execute("SELECT 1")


def test_a_usage_error_from_a_handler_exits_2_with_the_subcommand_usage(
    probe: list[sqlite3.Connection], capsys: pytest.CaptureFixture[str]
) -> None:
    """UsageError raised by a handler exits 2 with that subcommand's usage line."""
    with pytest.raises(SystemExit) as exit_info:
        main(["probe", "--usage"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert captured.err.startswith("usage: runmeta probe")
    assert captured.err.endswith("runmeta probe: error: the probe wants other options\n")
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        probe[0].execute("SELECT 1")
