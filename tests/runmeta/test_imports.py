"""Tests of the package boundary and import cost of monocycle_nash.runmeta.

``monocycle_nash.text`` is the one module outside runmeta that runmeta may import: a
leaf of text helpers shared with the domain, which itself imports nothing of ours.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import monocycle_nash.text
from monocycle_nash import runmeta

PACKAGE = Path(runmeta.__file__).parent
SHARED = "monocycle_nash.text"
"""The shared leaf module that both runmeta and the domain may import."""
LIBRARY_MODULES = sorted(
    path for path in PACKAGE.glob("*.py") if not path.name.startswith(("cli", "__main__"))
)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("." * node.level + (node.module or ""))
            elif node.module:
                names.add(node.module)
    return names


def _forbidden(name: str) -> bool:
    """Whether runmeta may not import ``name``: ours, but neither runmeta nor the text leaf."""
    if name.startswith("."):
        return True
    return name.startswith("monocycle_nash") and not (
        name.startswith("monocycle_nash.runmeta") or name == SHARED
    )


def test_library_imports_nothing_from_the_domain() -> None:
    """Every runmeta module imports only the standard library, runmeta and the text leaf."""
    offending = {
        f"{path.name}: {name}"
        for path in LIBRARY_MODULES
        for name in _imported_modules(path)
        if _forbidden(name)
    }
    assert offending == set()


def test_shared_text_module_imports_nothing_of_ours() -> None:
    """The text leaf shared by runmeta and the domain imports nothing from monocycle_nash."""
    imported = _imported_modules(Path(monocycle_nash.text.__file__))
    assert {name for name in imported if name.startswith(("monocycle_nash", "."))} == set()


_LOADED_SCRIPT = """
import sys
import monocycle_nash
before = set(sys.modules)
import monocycle_nash.runmeta
package_only = sorted(set(sys.modules) - before)
from monocycle_nash.runmeta import RunSessionService, SQLiteConnectionFactory
import monocycle_nash.runmeta.artifact_store, monocycle_nash.runmeta.edits
import monocycle_nash.runmeta.process, monocycle_nash.runmeta.process
import monocycle_nash.runmeta.process, monocycle_nash.runmeta.git_probe
loaded = sorted(set(sys.modules) - before)
print(repr((package_only, loaded)))
"""


def test_runmeta_loads_no_domain_and_import_is_lazy() -> None:
    """Importing runmeta loads none of its modules; using it loads no domain module."""
    result = subprocess.run(
        [sys.executable, "-c", _LOADED_SCRIPT], check=True, capture_output=True, text=True
    )
    package_only, loaded = ast.literal_eval(result.stdout)
    assert package_only == ["monocycle_nash.runmeta"]
    ours = [name for name in loaded if name.startswith("monocycle_nash")]
    assert ours and not any(_forbidden(name) for name in ours), ours
    heavy = {"shutil", "hashlib", "traceback", "tempfile", "socket", "subprocess", "uuid"}
    assert heavy.isdisjoint(loaded), heavy & set(loaded)


def test_every_exported_name_resolves() -> None:
    """__all__ lists exactly the lazily exported names, and each one loads."""
    assert sorted(runmeta.__all__) == sorted(runmeta._EXPORTS)
    for name in runmeta.__all__:
        assert getattr(runmeta, name) is not None
    assert set(runmeta.__all__) <= set(dir(runmeta))


_LISTING_SCRIPT = """
import contextlib, io, sys
from monocycle_nash.runmeta.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["list-runs"])
print(repr((code, sorted(sys.modules))))
"""


def test_list_runs_loads_no_heavy_module(tmp_path: Path) -> None:
    """runmeta list-runs, on a new database and an existing one, loads none of the slow modules."""
    slow = {"typing", "dataclasses", "shutil", "tempfile", "hashlib", "inspect", "random"}
    for attempt in ("creates the database", "reads it"):
        result = subprocess.run(
            [sys.executable, "-c", _LISTING_SCRIPT],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        code, loaded = ast.literal_eval(result.stdout)
        assert code == 0, attempt
        assert slow.isdisjoint(loaded), (attempt, slow & set(loaded))
