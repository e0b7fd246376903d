"""Team games and the spectrum through the real main job (RESEARCH.md sections 1 and 2)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.app.db_rows import row
from tests.app.main_process import run_main_job

ROSTER = """\
characters = [
  { label = "R", p = 0.0, v = [1.0, 0.0] },
  { label = "P", p = 0.0, v = [-1.0, -1.0] },
  { label = "S", p = 0.0, v = [0.0, 1.0] },
  { label = "D", p = -0.5, v = [1.0, 1.0] },
]
[teams]
size = 2
"""
LEVELS = (1.9809853516888472, 0.8208680909879961, 0.028826150025094897)


def _output(root: Path, name: str) -> Any:
    return json.loads((root / "result" / "1" / "output" / name).read_text("utf-8"))


@pytest.mark.parametrize("exact", [False, True], ids=["float", "exact"])
def test_worked_team_example_end_to_end(tmp_path: Path, exact: bool) -> None:
    """The 4-character roster with [teams] is solved as its 6-team game, with every output."""
    game = tmp_path / "teams.toml"
    game.write_text(ROSTER, encoding="utf-8")
    config = tmp_path / "run.toml"
    config.write_text(f'game = "teams.toml"\n[solver]\nexact = {str(exact).lower()}\n', "utf-8")
    result = run_main_job(tmp_path, str(config))
    assert result.returncode == 0, result.stderr
    assert "Played as its team game: 6 teams." in result.stdout
    assert "Spectrum: levels 1.98099, 0.820868, 0.0288262 (rank 6)" in result.stdout
    assert row(tmp_path)["status"] == "success"
    teams = _output(tmp_path, "team_matrix.json")
    assert teams["labels"] == ["R+P", "R+S", "R+D", "P+S", "P+D", "S+D"]
    assert teams["members"][0] == ["R", "P"]
    assert [Fraction(v).limit_denominator(100) for v in teams["matrix"][0]] == [
        Fraction(0),
        Fraction(1, 3),
        Fraction(3, 4),
        Fraction(-1, 3),
        Fraction(0),
        Fraction(1),
    ]
    equilibrium = _output(tmp_path, "equilibrium.json")
    assert sorted(equilibrium["support"]) == ["P+S", "R+P", "R+S"]
    assert equilibrium["row_strategy"][:2] == pytest.approx([1 / 3, 1 / 3])
    usage = {
        entry["label"]: entry["usage"]
        for entry in _output(tmp_path, "team_usage.json")["characters"]
    }
    assert usage == pytest.approx({"R": 2 / 3, "P": 2 / 3, "S": 2 / 3, "D": 0.0})
    spectrum = _output(tmp_path, "spectrum.json")
    assert spectrum["levels"] == pytest.approx(LEVELS, rel=1e-12)
    assert spectrum["rank"] == 6


def test_bad_teams_are_one_line_and_a_failedrun_main_job(tmp_path: Path) -> None:
    """A team naming an unknown character: one line naming the file, exit 1, run 'fail'."""
    game = tmp_path / "teams.toml"
    game.write_text(
        ROSTER.replace("size = 2", 'members = [{ label = "X", members = ["R", "Q"] }]'), "utf-8"
    )
    result = run_main_job(tmp_path, str(game))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "teams.toml" in result.stderr and "Q" in result.stderr
    assert "Traceback" not in result.stderr
    assert row(tmp_path)["status"] == "fail"


def test_a_general_game_says_why_it_has_no_spectrum(tmp_path: Path) -> None:
    """A game that is not skew-symmetric gets no spectrum.json and one line saying why."""
    game = tmp_path / "general.toml"
    game.write_text("matrix = [[1.0, 0.0], [0.0, 1.0]]\n", encoding="utf-8")
    result = run_main_job(tmp_path, str(game))
    assert result.returncode == 0, result.stderr
    assert "Spectrum: none, not skew-symmetric" in result.stdout
    assert not (tmp_path / "result" / "1" / "output" / "spectrum.json").exists()
