"""Tests of the runmeta records: NamedTuple rows and frozen dataclasses."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from monocycle_nash.runmeta.artifact_store import InputSnapshotInfo
from monocycle_nash.runmeta.models import ProjectRecord, RunRecord
from monocycle_nash.runmeta.process import ProcessIdentity
from monocycle_nash.runmeta.service import RunContext

T0 = "2026-02-14T19:30:12+09:00"
PROCESS = ProcessIdentity("host", 42, "boot:1", T0)


def _run(**changes: object) -> RunRecord:
    fields: dict[str, object] = {
        "run_id": 1,
        "created_at": T0,
        "started_at": T0,
        "ended_at": None,
        "status": "running",
        "command": "python -m x",
        "git_commit": None,
        "note": "",
        "project_id": None,
        "updated_at": T0,
    }
    fields.update(changes)
    return RunRecord(**fields)  # type: ignore[arg-type]


def _context(**changes: object) -> RunContext:
    fields: dict[str, object] = {
        "run_id": 1,
        "run_dir": Path("result/1"),
        "command": "c",
        "created_at": T0,
        "project_id": None,
        "project_path": None,
        "note": "",
        "git_commit": None,
        "process": PROCESS,
    }
    fields.update(changes)
    return RunContext(**fields)  # type: ignore[arg-type]


VALUES = [
    pytest.param(_run(), id="run"),
    pytest.param(ProjectRecord("main", "/p", T0, "n"), id="project"),
    pytest.param(InputSnapshotInfo("/in.toml", False, "input/in.toml", "ab"), id="input"),
    pytest.param(PROCESS, id="process"),
    pytest.param(_context(), id="context"),
]


@pytest.mark.parametrize("value", VALUES)
def test_fields_cannot_be_assigned_or_deleted(value: object) -> None:
    """Every record is frozen: setting or deleting a field raises AttributeError."""
    name = value.__match_args__[0]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        setattr(value, name, 7)
    # CPython 3.11's frozen slotted dataclasses refuse with TypeError (gh-90562).
    with pytest.raises((AttributeError, TypeError)):
        delattr(value, name)
    with pytest.raises((AttributeError, TypeError)):
        value.unknown = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", VALUES)
def test_copies_and_pickles_are_equal_with_equal_hashes(value: object) -> None:
    """copy, deepcopy and pickle round trips give equal records with the same hash."""
    for twin in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):  # noqa: S301
        assert twin == value
        assert hash(twin) == hash(value)
        assert twin is not value


def test_positional_and_keyword_construction_agree() -> None:
    """Fields can be given by position in declaration order or by name."""
    positional = RunRecord(1, T0, T0, None, "running", "python -m x", None, "", None, T0)
    assert positional == _run()
    assert positional.project_path is None
    assert positional.to_dict()["command"] == "python -m x"


def test_equality_depends_on_every_field_and_the_class() -> None:
    """A different field value or a different record class makes records unequal."""
    assert _run() != _run(note="x")
    assert _run() != _run(project_path="/p")
    assert hash(_run()) != hash(_run(run_id=2))
    assert _context() != _context(note="x")
    assert ProcessIdentity("host", 43, "boot:1", T0) != PROCESS


def test_repr_names_each_field() -> None:
    """repr shows the class name and every field as name=value."""
    assert repr(ProjectRecord("main", "/p", T0, "n")) == (
        f"ProjectRecord(project_id='main', project_path='/p', created_at='{T0}', note='n')"
    )
    assert "extra={}" in repr(_context())


def test_context_extra_is_mutable_per_context_and_ignored_by_equality() -> None:
    """Each context gets its own extra dictionary, and extra takes no part in ==."""
    first, second = _context(), _context()
    first.extra["score"] = 1.5
    assert second.extra == {}
    assert first == second
    assert hash(first) == hash(second)
    assert first.output_dir == Path("result/1/output")
    assert first.input_dir == Path("result/1/input")
    assert first.logs_dir == Path("result/1/logs")


def test_match_statement_destructures_a_record() -> None:
    """Records support positional patterns in match statements."""
    match ProjectRecord("main", "/p", T0, "n"):
        case ProjectRecord(project_id, path):
            assert (project_id, path) == ("main", "/p")
        case _:
            pytest.fail("no match")
