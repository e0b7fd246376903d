"""In-process tests of the main job's warnings, stored text and printed hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monocycle_nash.app import main
from monocycle_nash.app import pictures as pictures_module
from monocycle_nash.app.command_line import storable
from monocycle_nash.app.run_config import path_problem
from monocycle_nash.app.summary import details_command, format_header, format_summary
from monocycle_nash.equilibrium import Equilibrium
from tests.app.db_rows import row

ROSTER = """\
characters = [
  { label = "A", p = 0.0, v = [2.0, 0.0] },
  { label = "B", p = 0.0, v = [-1.0, 1.7] },
  { label = "C", p = 0.0, v = [-1.0, -1.7] },
]
"""


def test_a_drawing_bug_is_a_warning_and_the_run_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """characters.svg raising inside the drawing code: success, JSON written, one warning."""

    def broken(*args: object) -> str:
        raise ValueError("math domain error")

    monkeypatch.setattr(pictures_module, "characters_svg", broken)
    (tmp_path / "roster.toml").write_text(ROSTER, encoding="utf-8")
    assert main([str(tmp_path / "roster.toml"), "--root", str(tmp_path)]) == 0
    [warning] = capsys.readouterr().err.splitlines()
    assert warning.startswith(
        "monocycle-nash: warning: run 1: characters.svg not drawn: "
        "ValueError: math domain error (at test_main_job_messages.py:"
    )
    assert row(tmp_path)["status"] == "success"
    meta = json.loads((tmp_path / "result" / "1" / "meta.json").read_text("utf-8"))
    assert meta["warnings"] == [warning.removeprefix("monocycle-nash: warning: run 1: ")]
    assert meta["outputs"] == [
        "output/equilibrium.json",
        "output/pure_strategy.json",
        "output/divergence.json",
        "output/spectrum.json",
        "output/equilibrium.svg",
        "output/payoff_graph.svg",
    ]


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        pytest.param("plain ü", "plain ü", id="utf8"),
        pytest.param("bad \udce3\udc81", "bad \\xe3\\x81", id="surrogate-escaped-bytes"),
        pytest.param("lone \ud800", "lone \\ud800", id="lone-surrogate"),
    ],
)
def test_storable_text_keeps_utf8_and_escapes_the_rest(text: str, stored: str) -> None:
    """Undecodable bytes become \\xNN; everything UTF-8 can hold is kept as it is."""
    assert storable(text) == stored
    stored.encode("utf-8")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        pytest.param("a\0b", "it holds a NUL character", id="nul"),
        pytest.param("a" * 5000, "it is 5,000 bytes long (the limit is 4,095)", id="long"),
        pytest.param(
            "dir/" + "b" * 256, "a name in it is 256 bytes long (the limit is 255)", id="name"
        ),
        pytest.param("dir/" + "b" * 255, None, id="longest-name"),
    ],
)
def test_path_problem_names_what_the_system_refuses(path: str, problem: str | None) -> None:
    """A NUL, a path of 4,096 bytes or more, a name over 255 bytes: refused with the reason."""
    assert path_problem(path) == problem


def test_details_command_adds_only_the_locations_that_are_not_the_defaults(
    tmp_path: Path,
) -> None:
    """Default database and results: a plain command; elsewhere: --db-path/--result-root."""
    defaults = (Path(".runmeta/run_history.db"), Path("result"))
    plain = details_command(
        3,
        db_path=tmp_path / ".runmeta" / "run_history.db",
        result_root=tmp_path / "result",
        defaults=defaults,
        cwd=tmp_path,
    )
    assert plain == "runmeta show-run --run-id 3"
    moved = details_command(
        3,
        runmeta="uv run runmeta",
        db_path=tmp_path / "my db" / "runs.db",
        result_root=tmp_path.parent / "elsewhere",
        defaults=defaults,
        cwd=tmp_path,
    )
    assert moved == (
        "uv run runmeta show-run --run-id 3 --db-path 'my db/runs.db' "
        f"--result-root {tmp_path.parent / 'elsewhere'}"
    )


def test_the_summary_escapes_control_and_bidi_characters(tmp_path: Path) -> None:
    """Labels, file names and paths print \\u202e and \\x1b escapes, never the characters."""
    labels = ("exe.\u202etxt", "ok")
    equilibrium = Equilibrium(labels, (0.5, 0.5), (0.5, 0.5), 0.0, 0.0, "lp")
    text = format_summary(1, equilibrium, tmp_path / "res\x1bult" / "1")
    assert "\u202e" not in text
    assert "\x1b" not in text
    assert "  exe.\\u202etxt  0.500000" in text.splitlines()
    assert "res\\x1bult" in text
    assert format_header(1, "g\u202e.toml") == "Run 1: solving g\\u202e.toml"


def test_a_missed_end_ends_with_the_repair_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the database cannot take the run's end, the line ends with the command to copy."""
    from monocycle_nash.runmeta import DatabaseLockedError, RunsRepository  # noqa: PLC0415

    def locked(*args: object, **kwargs: object) -> None:
        raise DatabaseLockedError("history.db", 30.0)

    monkeypatch.setattr(RunsRepository, "finish_running", locked)
    assert main(["--root", str(tmp_path)]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("monocycle-nash: error: cannot record run 1 in the database: ")
    assert last.endswith("repair with: runmeta update-run --run-id 1 --status success")
