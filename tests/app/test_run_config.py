"""Tests of reading the main job's input: game files, run configs and settings."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from monocycle_nash.app.errors import InputFileError, RunConfigError, SettingsError
from monocycle_nash.app.run_config import (
    GameInput,
    ProjectSettings,
    RunInput,
    StorageLocation,
    read_game,
    read_input,
)
from monocycle_nash.errors import GameFileError
from monocycle_nash.examples import DEFAULT_RUN_CONFIG, examples_dir
from monocycle_nash.runmeta import InputFile

RPS = 'labels = ["R", "P", "S"]\nmatrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n'


def load_input(path: Path, root: Path, *, project_id: str | None = None) -> RunInput:
    """Read ``path`` with ``read_input`` and raise the input error it returns, if any.

    The game is read too (as the run reads it), so that its errors are raised here.
    """
    reading = read_input(path, root, project_id=project_id)
    if reading.error is not None:
        raise reading.error
    assert reading.run_input is not None
    read_game(reading.run_input.game)
    return reading.run_input


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _split(tmp_path: Path, config: str, settings: str = "") -> Path:
    _write(tmp_path / "in" / "game.toml", RPS)
    _write(tmp_path / "in" / "settings.toml", settings)
    return _write(tmp_path / "in" / "run.toml", config)


def test_game_file_uses_default_storage_and_no_merged_input(tmp_path: Path) -> None:
    """A game file is read as is, recorded under the root's default locations."""
    game = _write(tmp_path / "g.toml", RPS)
    run_input = load_input(game, tmp_path / "root")
    root = (tmp_path / "root").resolve()
    assert run_input.kind == "game"
    assert run_input.game == GameInput(str(game), path=game)  # read inside the run
    assert read_game(run_input.game).labels == ("R", "P", "S")
    assert run_input.storage == StorageLocation(
        root / ".runmeta" / "run_history.db", root / "result"
    )
    assert run_input.files == (InputFile("input", game),)
    assert run_input.merged_toml is None
    assert run_input.project is None
    assert run_input.exact is False


def test_default_example_is_a_split_run_config(tmp_path: Path) -> None:
    """The shipped example names a game and a settings file and merges them."""
    config = examples_dir() / DEFAULT_RUN_CONFIG
    run_input = load_input(config, tmp_path)
    assert run_input.kind == "run_config"
    assert [(file.role, file.path.name) for file in run_input.files] == [
        ("input", "default_run.toml"),
        ("settings", "settings.toml"),
        ("game", "rock_paper_scissors.toml"),
    ]
    assert run_input.exact is True
    assert run_input.storage == StorageLocation.default(tmp_path.resolve())
    assert run_input.merged_toml is not None
    merged = tomllib.loads(run_input.merged_toml.decode("utf-8"))
    game = config.parent / "rock_paper_scissors.toml"
    assert merged["game"] == str(game)
    assert merged["game_sha256"] == hashlib.sha256(game.read_bytes()).hexdigest()
    assert merged["solver"] == {"exact": True}
    assert merged["runmeta"]["db_path"] == str(tmp_path.resolve() / ".runmeta/run_history.db")
    assert merged["sources"]["game"] == str(config.parent / "rock_paper_scissors.toml")


def test_merged_input_can_be_run_again(tmp_path: Path) -> None:
    """A stored merged input is itself a run config giving the same game and settings."""
    config = _split(
        tmp_path,
        'game = "game.toml"\nsettings = "settings.toml"\n',
        '[runmeta]\nresult_root = "out"\n[analysis_project]\nproject_id = "p"\n'
        'project_path = "proj"\nnote = "n"\n[solver]\nexact = true\n',
    )
    first = load_input(config, tmp_path)
    assert first.merged_toml is not None
    merged_path = _write(tmp_path / "merged.toml", first.merged_toml.decode("utf-8"))
    second = load_input(merged_path, tmp_path / "elsewhere")
    assert second.game.path is not None and first.game.path is not None
    assert second.game.path.resolve() == first.game.path.resolve()
    assert second.game.sha256 == first.game.sha256
    assert second.storage == first.storage
    assert second.project == first.project
    assert second.exact is True


def test_settings_paths_are_relative_to_the_root(tmp_path: Path) -> None:
    """db_path, result_root and project_path resolve against --root, not the settings file."""
    config = _split(
        tmp_path,
        'game = "game.toml"\nsettings = "settings.toml"\n',
        '[runmeta]\ndb_path = "db/runs.db"\nresult_root = "runs"\n'
        '[analysis_project]\nproject_id = "study"\nproject_path = "../analysis"\n',
    )
    root = tmp_path / "root"
    run_input = load_input(config, root)
    assert run_input.storage == StorageLocation(root / "db" / "runs.db", root / "runs")
    assert run_input.project == ProjectSettings("study", tmp_path / "analysis")


def test_absolute_settings_paths_are_kept(tmp_path: Path) -> None:
    """An absolute db_path is used as written."""
    db = tmp_path / "abs" / "x.db"
    config = _split(tmp_path, f'game = "game.toml"\n[runmeta]\ndb_path = "{db.as_posix()}"\n')
    assert load_input(config, tmp_path / "root").storage.db_path == db


def test_run_config_keys_override_the_settings_file(tmp_path: Path) -> None:
    """Settings tables inside the run config win key by key over the settings file."""
    config = _split(
        tmp_path,
        'game = "game.toml"\nsettings = "settings.toml"\n[solver]\nexact = false\n',
        '[runmeta]\nresult_root = "r"\n[solver]\nexact = true\n',
    )
    run_input = load_input(config, tmp_path)
    assert run_input.exact is False
    assert run_input.storage.result_root == tmp_path.resolve() / "r"


def test_inline_game_table(tmp_path: Path) -> None:
    """A run config may hold the game inline under [game]."""
    config = _write(tmp_path / "run.toml", "[game]\n" + RPS)
    run_input = load_input(config, tmp_path)
    assert run_input.kind == "run_config"
    assert run_input.game is not None
    assert run_input.game.source == f"{config} [game]"
    assert run_input.files == (InputFile("input", config),)


@pytest.mark.parametrize(
    ("settings_project", "override", "expected"),
    [
        pytest.param(None, "cli", ProjectSettings("cli"), id="cli-only"),
        pytest.param("same", "same", "settings", id="same-id-keeps-path"),
        pytest.param("other", "cli", ProjectSettings("cli"), id="different-id-drops-path"),
    ],
)
def test_command_line_project_overrides_settings(
    tmp_path: Path, settings_project: str | None, override: str, expected: object
) -> None:
    """--project-id replaces the settings' project; the path is kept only for the same id."""
    section = (
        f'[analysis_project]\nproject_id = "{settings_project}"\nproject_path = "p"\n'
        if settings_project
        else ""
    )
    config = _split(tmp_path, 'game = "game.toml"\n' + section)
    run_input = load_input(config, tmp_path, project_id=override)
    if expected == "settings":
        expected = ProjectSettings(override, tmp_path.resolve() / "p")
    assert run_input.project == expected


@pytest.mark.parametrize(
    ("files", "error", "fragment"),
    [
        pytest.param({}, InputFileError, "no such file", id="missing-input"),
        pytest.param({"run.toml": "matrix = [[0"}, GameFileError, "invalid TOML", id="bad-toml"),
        pytest.param({"run.toml": "x = [[0"}, InputFileError, "invalid TOML", id="bad-toml-input"),
        pytest.param({"run.toml": b"x = '\xff'"}, InputFileError, "UTF-8", id="not-utf8"),
        pytest.param({"run.toml": "x = 1"}, RunConfigError, "neither", id="neither"),
        pytest.param(
            {"run.toml": ""}, RunConfigError, "run.toml: the file has no entries", id="empty"
        ),
        pytest.param(
            {"run.toml": "# only a comment\n"},
            RunConfigError,
            "the file has no entries",
            id="comment",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\nmatrix = [[0.0]]'}, RunConfigError, "both", id="both"
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\ncolour = 1'}, RunConfigError, "'colour'", id="unknown"
        ),
        pytest.param({"run.toml": "game = 3"}, RunConfigError, "'game' must be", id="game-int"),
        pytest.param(
            {"run.toml": 'game = "g.toml"'}, InputFileError, "g.toml: no such", id="game-missing"
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"', "g.toml": "x = 1"},
            RunConfigError,
            "not a game file",
            id="game-not-game",
        ),
        pytest.param(
            {"run.toml": "[game]\nx = 1"}, RunConfigError, "inline game", id="inline-not-game"
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\nsettings = "s.toml"', "g.toml": RPS},
            InputFileError,
            "s.toml: no such",
            id="settings-missing",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\nsettings = "s.toml"', "g.toml": RPS, "s.toml": "a=1"},
            SettingsError,
            "unknown entry 'a'",
            id="settings-unknown-section",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\n[solver]\nexakt = true', "g.toml": RPS},
            SettingsError,
            "unknown key 'exakt'",
            id="settings-unknown-key",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\n[solver]\nexact = "yes"', "g.toml": RPS},
            SettingsError,
            "exact must be true or false",
            id="exact-not-bool",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\n[solver]\nmethod = "fastest"', "g.toml": RPS},
            SettingsError,
            "unknown solver method 'fastest'",
            id="method-unknown",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\n[solver]\ntolerance = 2', "g.toml": RPS},
            SettingsError,
            "tolerance must be a number between 0 and 1",
            id="tolerance-out-of-range",
        ),
        pytest.param(
            {
                "run.toml": 'game = "g.toml"\n[solver]\nexact = true\nmethod = "approximate"',
                "g.toml": RPS,
            },
            SettingsError,
            "exact = true asks for the exact method",
            id="exact-and-another-method",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\n[runmeta]\ndb_path = ""', "g.toml": RPS},
            SettingsError,
            "db_path must be a non-empty string",
            id="db-path-empty",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\nrunmeta = 1', "g.toml": RPS},
            SettingsError,
            "[runmeta] must be a table",
            id="section-not-table",
        ),
        pytest.param(
            {"run.toml": 'game = "g.toml"\n[analysis_project]\nproject_path = "x"', "g.toml": RPS},
            SettingsError,
            "needs a project_id",
            id="project-without-id",
        ),
    ],
)
def test_bad_inputs_raise_typed_one_line_errors(
    tmp_path: Path, files: dict[str, str | bytes], error: type[Exception], fragment: str
) -> None:
    """Each malformed input raises its typed error with a one-line message naming the file."""
    for name, content in files.items():
        _write(tmp_path / name, content)
    with pytest.raises(error) as caught:
        load_input(tmp_path / "run.toml", tmp_path)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message
    assert str(tmp_path) in message


def test_a_byte_order_mark_is_skipped_in_every_input_file(tmp_path: Path) -> None:
    """Run config, settings and game file saved with a UTF-8 BOM are read normally."""
    bom = b"\xef\xbb\xbf"
    _write(tmp_path / "run.toml", bom + b'game = "g.toml"\nsettings = "s.toml"\n')
    _write(tmp_path / "s.toml", bom + b"[solver]\nexact = true\n")
    _write(tmp_path / "g.toml", bom + b"matrix = [[0, 1], [-1, 0]]\n")
    run_input = load_input(tmp_path / "run.toml", tmp_path)
    assert run_input.exact is True
    assert read_game(run_input.game).matrix.rows == ((0.0, 1.0), (-1.0, 0.0))


def test_a_folder_as_input_is_refused(tmp_path: Path) -> None:
    """Giving a folder instead of a file is a typed error."""
    with pytest.raises(InputFileError, match="is a folder"):
        load_input(tmp_path, tmp_path)


def test_read_input_keeps_the_storage_read_before_an_error(tmp_path: Path) -> None:
    """A later settings error still reports the configured [runmeta] location and files."""
    config = _split(
        tmp_path,
        'game = "game.toml"\nsettings = "settings.toml"\n',
        '[runmeta]\nresult_root = "custom"\n[solver]\nexact = 1\n',
    )
    reading = read_input(config, tmp_path)
    assert isinstance(reading.error, SettingsError)
    assert reading.run_input is None
    assert reading.storage.result_root == tmp_path.resolve() / "custom"
    assert reading.files == (
        InputFile("input", config),
        InputFile("settings", tmp_path / "in" / "settings.toml"),
    )


def test_read_input_falls_back_to_the_default_storage(tmp_path: Path) -> None:
    """An unreadable input is reported with the root's default storage and no files."""
    reading = read_input(tmp_path / "missing.toml", tmp_path)
    assert isinstance(reading.error, InputFileError)
    assert reading.storage == StorageLocation.default(tmp_path.resolve())
    assert reading.files == ()


def test_a_huge_wrong_setting_is_cut_in_the_message(tmp_path: Path) -> None:
    """A settings value of thousands of entries shows only its start in the one-line error."""
    _write(tmp_path / "g.toml", RPS)
    values = ", ".join(str(i) for i in range(2000))
    _write(tmp_path / "run.toml", f'game = "g.toml"\n[solver]\nexact = [{values}]\n')
    with pytest.raises(SettingsError) as caught:
        load_input(tmp_path / "run.toml", tmp_path)
    message = str(caught.value)
    assert message.endswith("got [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16...")


def test_solver_method_and_tolerance_are_read_and_merged(tmp_path: Path) -> None:
    """[solver] method and tolerance reach the run input and its merged_input.toml."""
    _write(tmp_path / "g.toml", RPS)
    config = _write(
        tmp_path / "run.toml",
        'game = "g.toml"\n[solver]\nmethod = "approximate"\ntolerance = 1e-4\n',
    )
    run_input = load_input(config, tmp_path)
    assert (run_input.method, run_input.tolerance, run_input.exact) == ("approximate", 1e-4, False)
    assert run_input.merged_toml is not None
    merged = tomllib.loads(run_input.merged_toml.decode("utf-8"))
    assert merged["solver"] == {"exact": False, "method": "approximate", "tolerance": 1e-4}
    plain = load_input(_write(tmp_path / "plain.toml", 'game = "g.toml"\n'), tmp_path)
    assert (plain.method, plain.tolerance) == ("auto", None)
