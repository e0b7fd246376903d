"""Tests of the main job's parser, recorded command line, console summary and JSON outputs."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from monocycle_nash.app.cli import build_parser, parse_arguments
from monocycle_nash.app.command_line import invoked_command
from monocycle_nash.app.outputs import (
    write_divergence,
    write_equilibrium,
    write_json,
    write_pure_strategy,
)
from monocycle_nash.app.summary import (
    MAX_LISTED,
    display_path,
    format_game,
    format_header,
    format_summary,
)
from monocycle_nash.equilibrium import Equilibrium

RPS = Equilibrium(
    labels=("Rock", "Paper", "Scissors"),
    row_strategy=(1 / 3, 1 / 3, 1 / 3),
    column_strategy=(1 / 3, 1 / 3, 1 / 3),
    value=-0.0,
    exploitability=0.0,
    solver="lp",
    gap=0.0,
    tolerance=2e-9,
)


def test_arguments_are_parsed() -> None:
    """INPUT, --note, --project-id and --root are read; defaults otherwise."""
    parsed = parse_arguments(["g.toml", "--note", "n", "--project-id", "p", "--root", "r"])
    assert (parsed.input, parsed.note, parsed.project_id, parsed.root) == (
        Path("g.toml"),
        "n",
        "p",
        Path("r"),
    )
    default = parse_arguments([])
    assert (default.input, default.note, default.project_id, default.root) == (
        None,
        "",
        None,
        Path(),
    )


def test_help_describes_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--help exits 0 and documents every option and the exit codes."""
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for word in ("INPUT", "--note", "--project-id", "--root", "143", "130", "show-run"):
        assert word in out
    for fragment in ("characters = [{ label", "[solver] exact", "db_path", "nothing recorded"):
        assert fragment in out, fragment


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown option is a usage error (exit 2) reported by argparse."""
    with pytest.raises(SystemExit) as caught:
        parse_arguments(["--bogus"])
    assert caught.value.code == 2
    assert "--bogus" in capsys.readouterr().err


def test_in_process_command_is_the_program_and_arguments() -> None:
    """Called with argv, the recorded command is 'monocycle-nash ARGS', shell-quoted."""
    assert invoked_command(["my game.toml", "--note", "a b"]) == (
        "monocycle-nash 'my game.toml' --note 'a b'"
    )


def test_process_command_shortens_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's command line is kept as typed, with the interpreter's bare name."""
    monkeypatch.setattr(sys, "orig_argv", ["/opt/venv/bin/python3", "src/main.py", "--note", "x y"])
    monkeypatch.setattr(sys, "argv", ["src/main.py", "--note", "x y"])
    assert invoked_command() == shlex.join(["python3", "src/main.py", "--note", "x y"])


def test_console_script_command_is_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A console script launched beside the interpreter is recorded by its name."""
    bin_dir = Path(sys.executable).parent
    script = str(bin_dir / "monocycle-nash")
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, script, "g.toml"])
    monkeypatch.setattr(sys, "argv", [script, "g.toml"])
    assert invoked_command() == "monocycle-nash g.toml"


def test_summary_lists_support_value_and_where(tmp_path: Path) -> None:
    """The summary shows the solver, support with probabilities, value and the run folder."""
    text = format_summary(7, RPS, tmp_path / "result" / "7")
    assert text.splitlines() == [
        "Solved by lp.",
        "Equilibrium support (3 of 3):",
        "  Rock      0.333333",
        "  Paper     0.333333",
        "  Scissors  0.333333",
        "Value: 0 (exploitability 0; certified: gap 0, tolerance 2e-09)",
        f"Results: {display_path(tmp_path / 'result' / '7')}",
        "Details: runmeta show-run --run-id 7",
    ]
    uncertified = replace(RPS, exploitability=1e-3, gap=2e-3)
    assert format_summary(7, uncertified, tmp_path).splitlines()[5] == (
        "Value: 0 (exploitability 0.001; NOT certified: gap 0.002, tolerance 2e-09)"
    )
    assert format_header(7, "rps.toml") == "Run 7: solving rps.toml"
    assert format_game(3, "payoff matrix") == "Game: 3 strategies, payoff matrix"


def test_summary_aligns_wide_and_combining_labels() -> None:
    """Probabilities line up in a terminal for Japanese labels (2 columns per character)."""
    labels = ("春麗", "Ken", "Zoe\u0301")  # the last: e + combining acute, 3 columns
    equilibrium = Equilibrium(labels, (0.5, 0.25, 0.25), (0.5, 0.25, 0.25), 0.0, 0.0, "lp")
    lines = format_summary(1, equilibrium, Path("result/1")).splitlines()[2:5]
    assert lines == ["  春麗  0.500000", "  Ken   0.250000", "  Zoe\u0301   0.250000"]


def test_summary_cuts_very_long_labels() -> None:
    """A 5000-character label is cut to 40 columns, so short labels are not padded to it."""
    labels = ("x" * 5000, "y", "名" * 30)
    equilibrium = Equilibrium(labels, (0.5, 0.25, 0.25), (0.5, 0.25, 0.25), 0.0, 0.0, "lp")
    lines = format_summary(1, equilibrium, Path("result/1")).splitlines()[2:5]
    assert lines == [
        f"  {'x' * 39}\u2026  0.500000",
        f"  y{' ' * 39}  0.250000",
        f"  {'名' * 19}\u2026   0.250000",  # 39 columns, padded to 40
    ]


def test_summary_of_a_large_support_is_cut() -> None:
    """Only the most probable support members are listed, then a count of the rest."""
    size = MAX_LISTED + 5
    weights = tuple(float(i + 1) for i in range(size))
    total = sum(weights)
    strategy = tuple(w / total for w in weights)
    labels = tuple(f"s{i}" for i in range(size))
    big = Equilibrium(labels, strategy, strategy, 0.0, 0.0, "lp")
    lines = format_summary(1, big, Path("result/1")).splitlines()
    assert lines[2].startswith(f"  s{size - 1} ")
    assert "  ... and 5 more" in lines


def test_display_path_is_relative_inside_the_folder(tmp_path: Path) -> None:
    """Paths inside the current folder are shown relative, others absolute."""
    assert display_path(tmp_path / "result" / "1", tmp_path) == str(Path("result") / "1")
    assert display_path(tmp_path, tmp_path / "sub") == str(tmp_path.resolve())


def test_output_files_hold_the_equilibrium(tmp_path: Path) -> None:
    """equilibrium.json, pure_strategy.json and divergence.json hold the documented keys."""
    write_equilibrium(tmp_path, RPS)
    write_pure_strategy(tmp_path, RPS.labels, (0.0, 0.0, 0.0))
    write_divergence(tmp_path, RPS.labels, (0.0, 0.5, 0.0))
    equilibrium = json.loads((tmp_path / "equilibrium.json").read_text("utf-8"))
    assert {
        "labels",
        "row_strategy",
        "column_strategy",
        "value",
        "exploitability",
        "support",
        "solver",
    } <= equilibrium.keys()
    assert equilibrium["support"] == ["Rock", "Paper", "Scissors"]
    pure = json.loads((tmp_path / "pure_strategy.json").read_text("utf-8"))
    assert [s["label"] for s in pure["strategies"]] == ["Rock", "Paper", "Scissors"]
    divergence = json.loads((tmp_path / "divergence.json").read_text("utf-8"))
    assert [s["divergence"] for s in divergence["strategies"]] == [0.0, 0.5, 0.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "divergence.json",
        "equilibrium.json",
        "pure_strategy.json",
    ]


def test_per_strategy_files_are_what_json_dumps_writes(tmp_path: Path) -> None:
    """pure_strategy.json and divergence.json equal json.dumps(indent=2) byte for byte."""
    labels = ('quote " back \\ slash', "tab\tnew\nline", "\u30ea\u30e5\u30a6", "\x7f\u2028")
    values = (-0.0, 1e300, 5e-324, 1 / 3)
    write_pure_strategy(tmp_path, labels, values)
    write_divergence(tmp_path, labels, values)
    for name, key in (("pure_strategy.json", "payoff"), ("divergence.json", "divergence")):
        text = (tmp_path / name).read_text("utf-8")
        payload = json.loads(text)
        assert [entry["label"] for entry in payload["strategies"]] == list(labels)
        strategies = [
            {"label": label, key: value} for label, value in zip(labels, values, strict=True)
        ]
        expected = {**payload, "strategies": strategies}
        assert text == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


def test_per_strategy_files_refuse_nan(tmp_path: Path) -> None:
    """A NaN payoff is refused like json.dumps refuses it, and no file is left."""
    with pytest.raises(ValueError, match="JSON"):
        write_pure_strategy(tmp_path, ("A",), (float("nan"),))
    assert list(tmp_path.iterdir()) == []


def test_output_files_follow_the_umask(tmp_path: Path) -> None:
    """Results are as readable as any file the user creates, not private temp files."""
    write_json(tmp_path / "x.json", {"a": 1})
    (tmp_path / "plain").write_text("", encoding="utf-8")
    assert (tmp_path / "x.json").stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_json_refuses_nan_and_leaves_no_temp_file(tmp_path: Path) -> None:
    """A NaN cannot be written as JSON; the failed write leaves no file behind."""
    with pytest.raises(ValueError, match="JSON"):
        write_json(tmp_path / "x.json", {"value": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_game_line_of_a_one_strategy_game_is_singular() -> None:
    """The game line says '1 strategy', not '1 strategies'."""
    assert format_game(1, "monocycle roster") == "Game: 1 strategy, monocycle roster"
