"""[approximation] and [compare] through the real main job (RESEARCH.md section 3)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.app.db_rows import row
from tests.app.main_process import run_main_job

A4 = (
    'labels = ["a", "b", "c", "d"]\n'
    "matrix = [[0, -1, 1, 1], [1, 0, -1, 0], [-1, 1, 0, 0], [-1, 0, 0, 0]]\n"
)
REFERENCE = (
    'labels = ["a", "b", "c", "d"]\n'
    "matrix = [[0, -1, 1, 0.5], [1, 0, -1, 0], [-1, 1, 0, 0], [-0.5, 0, 0, 0]]\n"
)
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


def _config(root: Path, game: str, body: str) -> Path:
    (root / "a4.toml").write_text(A4, encoding="utf-8")
    (root / "ref.toml").write_text(REFERENCE, encoding="utf-8")
    (root / "teams.toml").write_text(ROSTER, encoding="utf-8")
    config = root / "run.toml"
    config.write_text(f'game = "{game}"\n{body}', encoding="utf-8")
    return config


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"a JSON output holds {name}")


def test_approximation_and_comparison_outputs(tmp_path: Path) -> None:
    """The A4 example: B keeps A4's payoffs against u, and the comparison is written."""
    config = _config(
        tmp_path,
        "a4.toml",
        '[approximation]\nmethod = "equilibrium_preserving"\n[compare]\nreference = "ref.toml"\n',
    )
    result = run_main_job(tmp_path, str(config))
    assert result.returncode == 0, result.stderr
    assert "Approximation (equilibrium preserving):" in result.stdout
    assert "Comparison with ref.toml: max |X - R| 0.5 at (a, d)" in result.stdout
    output = tmp_path / "result" / "1" / "output"
    approximation = json.loads((output / "approximation.json").read_text("utf-8"))
    assert approximation["method"] == "equilibrium_preserving"
    assert approximation["distances"]["max_element"] == pytest.approx((math.sqrt(3) - 1) / 6)
    comparison = json.loads((output / "comparison.json").read_text("utf-8"))
    assert comparison["labels"] == ["a", "b", "c", "d"]
    assert "<svg" in (output / "comparison.svg").read_text("utf-8")
    assert (tmp_path / "result" / "1" / "input" / "ref.toml").read_text("utf-8") == REFERENCE
    # The approximated roster is a game file the main job solves as it is.
    again = run_main_job(tmp_path, str(output / "approximated_roster.toml"))
    assert again.returncode == 0, again.stderr
    assert row(tmp_path, 2)["status"] == "success"


def test_no_json_output_of_any_analysis_holds_infinity_or_nan(tmp_path: Path) -> None:
    """Every JSON file of runs using every analysis parses without Infinity or NaN."""
    configs = [
        _config(
            tmp_path,
            "a4.toml",
            '[approximation]\nmethod = "dominant_eigenpair"\n'
            '[compare]\nreference = "ref.toml"\napproximation = true\n',
        )
    ]
    for index, config in enumerate(configs):
        assert run_main_job(tmp_path, str(config)).returncode == 0
        assert row(tmp_path, index + 1)["status"] == "success"
    assert run_main_job(tmp_path, str(tmp_path / "teams.toml")).returncode == 0
    (tmp_path / "one.toml").write_text("matrix = [[0.0]]\n", encoding="utf-8")
    assert run_main_job(tmp_path, str(tmp_path / "one.toml")).returncode == 0
    files = sorted((tmp_path / "result").glob("*/output/*.json"))
    names = {path.name for path in files}
    assert {"approximation.json", "comparison.json", "spectrum.json", "team_matrix.json"} <= names
    for path in files:
        json.loads(path.read_text("utf-8"), parse_constant=_refuse_constant)


def test_a_roster_needs_no_approximation(tmp_path: Path) -> None:
    """A roster is a monocycle game already: one line says so and the run succeeds."""
    config = _config(tmp_path, "teams.toml", '[approximation]\nmethod = "dominant_eigenpair"\n')
    (tmp_path / "teams.toml").write_text(ROSTER.split("[teams]", maxsplit=1)[0], encoding="utf-8")
    result = run_main_job(tmp_path, str(config))
    assert result.returncode == 0, result.stderr
    assert "Approximation:" in result.stdout and "monocycle" in result.stdout
    assert not (tmp_path / "result" / "1" / "output" / "approximation.json").exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param('[approximation]\nmethod = "best"\n', "method must be one of", id="method"),
        pytest.param('[compare]\nreference = "nothing.toml"\n', "no such file", id="reference"),
        pytest.param(
            '[compare]\nreference = "ref.toml"\napproximation = true\n',
            "give both [approximation] method",
            id="approximation-without-method",
        ),
    ],
)
def test_bad_analysis_settings_are_one_line(tmp_path: Path, body: str, message: str) -> None:
    """Bad [approximation] or [compare] settings: one line naming the file, a fail run."""
    result = run_main_job(tmp_path, str(_config(tmp_path, "a4.toml", body)))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr and "run.toml" in result.stderr
    assert row(tmp_path)["status"] == "fail"


def test_compare_with_other_labels_fails_in_one_line(tmp_path: Path) -> None:
    """A reference with other labels: one line listing them, the run recorded 'fail'."""
    config = _config(tmp_path, "a4.toml", '[compare]\nreference = "ref.toml"\n')
    (tmp_path / "ref.toml").write_text(REFERENCE.replace('"d"', '"z"'), encoding="utf-8")
    result = run_main_job(tmp_path, str(config))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "z" in result.stderr
    assert row(tmp_path)["status"] == "fail"


def test_a_general_game_cannot_be_approximated(tmp_path: Path) -> None:
    """A game that is not skew-symmetric: one line, the run recorded 'fail'."""
    config = _config(tmp_path, "general.toml", '[approximation]\nmethod = "dominant_eigenpair"\n')
    (tmp_path / "general.toml").write_text("matrix = [[1.0, 0.0], [0.0, 1.0]]\n", "utf-8")
    result = run_main_job(tmp_path, str(config))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert row(tmp_path)["status"] == "fail"
