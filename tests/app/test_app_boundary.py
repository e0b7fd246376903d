"""The app's boundary with runmeta: public names only, and writes only below output/."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import monocycle_nash.app
import monocycle_nash.runmeta
from monocycle_nash.app import main
from monocycle_nash.runmeta import RunContext, RunSessionService

APP_DIR = Path(monocycle_nash.app.__file__).parent
ROSTER = """\
characters = [
  { label = "A", p = 0.0, v = [2.0, 0.0] },
  { label = "B", p = 0.0, v = [-1.0, 1.7] },
  { label = "C", p = 0.0, v = [-1.0, -1.7] },
]
"""


def _imports(path: Path) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(module, names) of every import statement in ``path``."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            yield node.module, tuple(alias.name for alias in node.names)


@pytest.mark.parametrize("path", sorted(APP_DIR.glob("*.py")), ids=lambda p: p.name)
def test_app_uses_only_runmeta_s_public_api(path: Path) -> None:
    """No app module imports sqlite3, a runmeta submodule or a non-public runmeta name."""
    public = set(monocycle_nash.runmeta.__all__)
    for module, names in _imports(path):
        assert module.split(".")[0] != "sqlite3", f"{path.name} imports sqlite3"
        if module.startswith("monocycle_nash.runmeta"):
            assert module == "monocycle_nash.runmeta", f"{path.name} imports {module}"
            assert set(names) <= public, f"{path.name}: {sorted(set(names) - public)}"


def _snapshot(run_dir: Path) -> dict[str, str]:
    """Digest of every file below ``run_dir`` but logs/ (which runmeta's tee writes)."""
    return {
        path.relative_to(run_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(run_dir.rglob("*"))
        if path.is_file() and path.relative_to(run_dir).parts[0] != "logs"
    }


def test_app_writes_only_below_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Between start and finish, every file the app adds or changes is under output/."""
    original = RunSessionService.record
    seen: list[tuple[dict[str, str], dict[str, str]]] = []

    @contextmanager
    def watched(self: RunSessionService, *args: Any, **kwargs: Any) -> Iterator[RunContext]:
        with original(self, *args, **kwargs) as ctx:
            before = _snapshot(ctx.run_dir)
            try:
                yield ctx
            finally:
                seen.append((before, _snapshot(ctx.run_dir)))

    monkeypatch.setattr(RunSessionService, "record", watched)
    game = tmp_path / "roster.toml"
    game.write_text(ROSTER, encoding="utf-8")
    config = tmp_path / "run.toml"
    config.write_text('game = "roster.toml"\n', encoding="utf-8")
    assert main([str(config), "--root", str(tmp_path)]) == 0
    capsys.readouterr()
    [(before, after)] = seen
    assert {"input/run.toml", "input/roster.toml", "input/merged_input.toml"} <= set(before)
    touched = {name for name in after if before.get(name) != after[name]}
    assert touched, "the app wrote nothing"
    assert all(name.startswith("output/") for name in touched), sorted(touched)
    assert set(before) <= set(after)  # nothing removed either
