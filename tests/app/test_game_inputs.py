"""The main job with CSV and JSON games, games read inside the run, and [output] per_strategy."""

from __future__ import annotations

import csv
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.app import main, run_config
from monocycle_nash.app.outputs import write_equilibrium, write_pure_strategy, write_results
from monocycle_nash.app.run_config import GameInput, read_input
from monocycle_nash.equilibrium import Equilibrium
from tests.app.db_rows import row

ROSTER = "label,p,x,y\nA,0.0,2.0,0.0\nB,0.0,-1.0,1.7\nC,0.0,-1.0,-1.7\nWeak,-5.0,0.1,0.1\n"


def _meta(root: Path, run_id: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "result" / str(run_id) / "meta.json").read_text())
    return data


def _outputs(root: Path, run_id: int = 1) -> list[str]:
    return sorted(path.name for path in (root / "result" / str(run_id) / "output").iterdir())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("roster.csv", ROSTER, id="csv"),
        pytest.param(
            "roster.json",
            '{"characters": [{"label": "A", "p": 0, "v": [2, 0]}, '
            '{"label": "B", "p": 0, "v": [-1, 1.7]}, {"label": "C", "p": 0, "v": [-1, -1.7]}, '
            '{"label": "Weak", "p": -5, "v": [0.1, 0.1]}]}',
            id="json",
        ),
    ],
)
def test_a_csv_or_json_roster_is_solved_and_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str
) -> None:
    """A roster given as CSV or JSON runs like a TOML one: a success run, all outputs."""
    game = tmp_path / name
    game.write_text(content, encoding="utf-8")
    assert main([str(game), "--root", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        f"Run 1: solving {name}",
        "Game: 4 strategies, monocycle roster",
        "Solved by monocycle-sampling.",
    ]
    assert row(tmp_path)["status"] == "success"
    assert _outputs(tmp_path) == [
        "characters.svg",
        "divergence.json",
        "equilibrium.json",
        "equilibrium.svg",
        "payoff_graph.svg",
        "pure_strategy.json",
        "spectrum.json",
    ]
    assert (tmp_path / "result" / "1" / "input" / name).read_text("utf-8") == content
    assert _meta(tmp_path)["game"] == {"source": str(game), "kind": "monocycle roster", "size": 4}


def test_a_bad_csv_row_fails_the_run_after_its_id_was_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The game is read inside the run: its error is a 'fail' run whose id was shown first."""
    game = tmp_path / "roster.csv"
    game.write_text(ROSTER + "Extra,0.0,nan,0.0\n", encoding="utf-8")
    assert main([str(game), "--root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "Run 1: solving roster.csv\n"
    message = f"{game}: x on line 6 must be finite, got nan"
    assert captured.err == f"monocycle-nash: error: {message}\n"
    assert row(tmp_path)["status"] == "fail"
    assert message in _meta(tmp_path)["reason"]
    log = (tmp_path / "result" / "1" / "logs" / "stdout.log").read_text("utf-8")
    assert log == "Run 1: solving roster.csv\n"


@pytest.mark.parametrize(
    ("text", "read_in_the_run"),
    [
        pytest.param("# a game\n\nlabels = []\nmatrix = []\n", True, id="comment-then-labels"),
        pytest.param("\ufeffmatrix = [[0.0]]\n", True, id="bom-then-matrix"),
        pytest.param("characters.x = 1\n", True, id="dotted-characters"),
        pytest.param('"matrix" = [[0.0]]\n', False, id="quoted-key"),
        pytest.param("[game]\nmatrix = [[0.0]]\n", False, id="run-config"),
    ],
)
def test_a_toml_game_file_is_read_in_the_run_when_it_begins_as_one(
    tmp_path: Path, text: str, *, read_in_the_run: bool
) -> None:
    """A TOML input beginning with matrix, labels or characters is left for the run."""
    path = tmp_path / "input.toml"
    path.write_text(text, encoding="utf-8")
    reading = read_input(path, tmp_path)
    assert reading.run_input is not None
    game = reading.run_input.game
    assert (game.table is None) is read_in_the_run
    if read_in_the_run:
        assert game == GameInput(str(path), path=path)


def test_a_run_config_in_the_shape_of_a_game_fails_in_the_default_storage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file beginning as a game but holding 'game' too is refused inside a default run."""
    (tmp_path / "g.csv").write_text(ROSTER, encoding="utf-8")
    config = tmp_path / "odd.toml"
    config.write_text(
        'characters = []\ngame = "g.csv"\n[runmeta]\nresult_root = "elsewhere"\n',
        encoding="utf-8",
    )
    assert main([str(config), "--root", str(tmp_path)]) == 1
    assert "has both a game table" in capsys.readouterr().err
    assert row(tmp_path)["status"] == "fail"
    assert not (tmp_path / "elsewhere").exists()


def _run_config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    config = tmp_path / "run.toml"
    config.write_text(f'game = "roster.csv"\n{extra}', encoding="utf-8")
    return config


def test_the_merged_input_of_a_csv_game_names_it_and_runs_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """merged_input.toml names the CSV by path and SHA-256; it reruns the same game."""
    config = _run_config(tmp_path)
    assert main([str(config), "--root", str(tmp_path)]) == 0
    merged_path = tmp_path / "result" / "1" / "input" / "merged_input.toml"
    merged = tomllib.loads(merged_path.read_text("utf-8"))
    roster = tmp_path / "roster.csv"
    assert merged["game"] == str(roster.resolve())
    assert merged["game_sha256"] == hashlib.sha256(roster.read_bytes()).hexdigest()
    assert "characters" not in merged_path.read_text("utf-8")  # never inlined
    assert main([str(merged_path), "--note", "again"]) == 0
    capsys.readouterr()
    assert row(tmp_path, 2)["status"] == "success"
    first, second = (
        json.loads((tmp_path / "result" / str(run) / "output" / "equilibrium.json").read_text())
        for run in (1, 2)
    )
    assert first == second
    assert (tmp_path / "result" / "2" / "input" / "roster.csv").read_text("utf-8") == ROSTER


def test_a_rerun_of_a_changed_game_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once the game file named by game_sha256 changed, its merged input fails one line."""
    config = _run_config(tmp_path)
    assert main([str(config), "--root", str(tmp_path)]) == 0
    capsys.readouterr()
    (tmp_path / "roster.csv").write_text(ROSTER.replace("Weak,-5.0", "Weak,-4.0"), "utf-8")
    merged = tmp_path / "result" / "1" / "input" / "merged_input.toml"
    assert main([str(merged)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"monocycle-nash: error: {merged}: the game file ")
    assert "is not the one game_sha256 names" in line
    assert row(tmp_path, 2)["status"] == "fail"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param(
            '"xml"', "[output] per_strategy must be one of 'json', 'csv', 'none'", id="mode"
        ),
        pytest.param("1", "got 1", id="type"),
    ],
)
def test_a_bad_per_strategy_setting_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, fragment: str
) -> None:
    """[output] per_strategy outside json, csv, none: one line naming the file, a fail run."""
    config = _run_config(tmp_path, f"[output]\nper_strategy = {value}\n")
    assert main([str(config), "--root", str(tmp_path)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"monocycle-nash: error: {config}: [output] per_strategy must be")
    assert fragment in line


def test_per_strategy_csv_writes_one_table_instead_of_the_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """per_strategy = "csv": strategies.csv, an equilibrium.json without the long lists."""
    config = _run_config(tmp_path, '[output]\nper_strategy = "csv"\n')
    assert main([str(config), "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "(per-strategy results in output/strategies.csv)" in out
    assert _outputs(tmp_path) == [
        "characters.svg",
        "equilibrium.json",
        "equilibrium.svg",
        "payoff_graph.svg",
        "spectrum.json",
        "strategies.csv",
    ]
    output = tmp_path / "result" / "1" / "output"
    equilibrium = json.loads((output / "equilibrium.json").read_text("utf-8"))
    assert equilibrium["per_strategy"] == "csv"
    assert not {"labels", "row_strategy", "column_strategy"} & equilibrium.keys()
    with (output / "strategies.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [entry["label"] for entry in table] == ["A", "B", "C", "Weak"]
    assert float(table[3]["row_strategy"]) == 0.0
    assert float(table[3]["divergence"]) > 0.0
    assert sum(float(entry["column_strategy"]) for entry in table) == pytest.approx(1.0)
    meta = _meta(tmp_path)
    assert meta["output"] == {"per_strategy": "csv"}
    assert "output/strategies.csv" in meta["outputs"]


def test_per_strategy_none_writes_only_the_summary_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """per_strategy = "none": equilibrium.json without the lists, no per-strategy file."""
    config = _run_config(tmp_path, '[output]\nper_strategy = "none"\n')
    assert main([str(config), "--root", str(tmp_path)]) == 0
    assert 'not written: [output] per_strategy = "none")' in capsys.readouterr().out
    assert _outputs(tmp_path) == [
        "characters.svg",
        "equilibrium.json",
        "equilibrium.svg",
        "payoff_graph.svg",
        "spectrum.json",
    ]
    equilibrium = json.loads(
        (tmp_path / "result" / "1" / "output" / "equilibrium.json").read_text("utf-8")
    )
    assert (equilibrium["per_strategy"], sorted(equilibrium["support"])) == (
        "none",
        ["A", "B", "C"],
    )
    assert _meta(tmp_path)["output"] == {"per_strategy": "none"}
    merged = tomllib.loads(
        (tmp_path / "result" / "1" / "input" / "merged_input.toml").read_text("utf-8")
    )
    assert merged["output"] == {"per_strategy": "none"}


LABELS = ('quote " back \\ slash', "tab\tnew\nline", "\u30ea\u30e5\u30a6", "\x7f\u2028")
EQUILIBRIUM = Equilibrium(
    labels=LABELS,
    row_strategy=(0.5, 0.0, 5e-324, 0.5),
    column_strategy=(1 / 3, 1 / 3, 1 / 3, 0.0),
    value=-0.0,
    exploitability=1e300,
    solver="lp",
    translation=(1.5, -2.0),
    gap=0.0,
    tolerance=2e-9,
)


@pytest.mark.parametrize("per_strategy", ["json", "csv", "none"])
def test_equilibrium_json_is_what_json_dumps_writes(tmp_path: Path, per_strategy: str) -> None:
    """equilibrium.json, streamed, equals json.dumps(indent=2) of its content byte for byte."""
    write_equilibrium(tmp_path, EQUILIBRIUM, per_strategy=per_strategy)
    text = (tmp_path / "equilibrium.json").read_text("utf-8")
    payload = json.loads(text)
    lists = {
        "labels": list(LABELS),
        "row_strategy": list(EQUILIBRIUM.row_strategy),
        "column_strategy": list(EQUILIBRIUM.column_strategy),
    }
    assert (lists.items() <= payload.items()) is (per_strategy == "json")
    assert payload["translation"] == [1.5, -2.0]
    assert payload["support"] == [LABELS[0], LABELS[2], LABELS[3]]
    assert text == json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def test_large_outputs_are_streamed_in_blocks_with_the_same_bytes(tmp_path: Path) -> None:
    """Games larger than one block (8,192 strategies) give the same bytes as json.dumps."""
    size = 20_000
    labels = tuple(f"s{index}" for index in range(size))
    weights = tuple(1 / size for _ in range(size))
    equilibrium = Equilibrium(labels, weights, weights, 0.0, 0.0, "lp")
    payoffs = tuple(index / 7 for index in range(size))
    write_results(tmp_path, equilibrium, payoffs, payoffs)
    for name in ("equilibrium.json", "pure_strategy.json", "divergence.json"):
        text = (tmp_path / name).read_text("utf-8")
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n", name
    pure = json.loads((tmp_path / "pure_strategy.json").read_text("utf-8"))
    assert [entry["payoff"] for entry in pure["strategies"]] == list(payoffs)


def test_a_failure_in_a_later_block_leaves_no_file(tmp_path: Path) -> None:
    """A NaN after the first block (already written) still leaves no file, not half of one."""
    size = 10_000
    labels = tuple(f"s{index}" for index in range(size))
    payoffs = (0.0,) * (size - 1) + (float("nan"),)
    with pytest.raises(ValueError, match="JSON"):
        write_pure_strategy(tmp_path, labels, payoffs)
    assert list(tmp_path.iterdir()) == []


def test_a_game_file_changed_while_the_run_starts_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The merged input's digest must be that of the run's copy, else the run fails."""
    config = _run_config(tmp_path)
    monkeypatch.setattr(run_config, "_file_sha256", lambda path: "0" * 64)
    assert main([str(config), "--root", str(tmp_path)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "roster.csv: the file changed while the run started" in line
    assert row(tmp_path)["status"] == "fail"
