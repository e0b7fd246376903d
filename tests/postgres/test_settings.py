"""``[runmeta] database_url`` in the main job's settings (no server needed)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monocycle_nash.app.errors import SecretInSettingsError, SettingsError
from monocycle_nash.app.run_config import StorageLocation
from tests.app.test_run_config import _split, load_input

URL = "postgresql://lab@db.example:5432/runs"


def test_a_database_url_replaces_the_file(tmp_path: Path) -> None:
    """The URL is kept, and the merged input names it (and no db_path)."""
    config = _split(tmp_path, f'game = "game.toml"\n[runmeta]\ndatabase_url = "{URL}"\n')
    run_input = load_input(config, tmp_path / "root")
    assert run_input.storage == StorageLocation(
        tmp_path / "root" / ".runmeta" / "run_history.db", tmp_path / "root" / "result", URL
    )
    assert run_input.merged_toml is not None
    merged = tomllib.loads(run_input.merged_toml.decode("utf-8"))
    assert merged["runmeta"] == {"database_url": URL, "result_root": str(tmp_path / "root/result")}


def test_the_run_config_wins_over_the_settings_file(tmp_path: Path) -> None:
    """A db_path in the run config beats a database_url of the settings file, and back."""
    config = _split(
        tmp_path,
        'game = "game.toml"\nsettings = "settings.toml"\n[runmeta]\ndb_path = "own.db"\n',
        f'[runmeta]\ndatabase_url = "{URL}"\n',
    )
    assert load_input(config, tmp_path).storage.database_url is None
    config = _split(
        tmp_path,
        f'game = "game.toml"\nsettings = "settings.toml"\n[runmeta]\ndatabase_url = "{URL}"\n',
        '[runmeta]\ndb_path = "own.db"\n',
    )
    assert load_input(config, tmp_path).storage.database_url == URL


@pytest.mark.parametrize(
    ("runmeta", "error", "message"),
    [
        pytest.param(f'db_path = "x.db"\ndatabase_url = "{URL}"', SettingsError,
                     "gives both db_path and database_url", id="both-in-one-file"),
        pytest.param('database_url = "mysql://u:pw@h/db"', SettingsError,
                     "must be a PostgreSQL URL", id="not-postgres"),
        pytest.param('database_url = 5', SettingsError, "must be a PostgreSQL URL", id="number"),
        pytest.param('database_url = "postgresql://lab:pw@db/runs"', SecretInSettingsError,
                     "holds a password", id="password"),
        pytest.param('database_url = "postgresql://db/runs?password=pw"', SecretInSettingsError,
                     "holds a password", id="password-parameter"),
    ],
)  # fmt: skip
def test_unusable_database_urls_are_refused(
    tmp_path: Path, runmeta: str, error: type[Exception], message: str
) -> None:
    """One line naming the file and the entry; a password is never in it."""
    config = _split(tmp_path, f'game = "game.toml"\n[runmeta]\n{runmeta}\n')
    with pytest.raises(error, match=message) as caught:
        load_input(config, tmp_path)
    assert "pw" not in str(caught.value)
    assert "\n" not in str(caught.value)
