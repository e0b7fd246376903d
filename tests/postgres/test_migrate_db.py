"""``runmeta migrate-db``: an SQLite history copied onto the server, or refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monocycle_nash.runmeta import CopyRefusedError, DatabaseUrl, RunSessionService
from monocycle_nash.runmeta.cli import main
from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.migrate_db import copy_history
from tests.postgres.conftest import SECRET


def _history(root: Path) -> Path:
    """An SQLite history: a project, a sweep with two children, figures, a deleted last run."""
    clock = FixedClock("2026-02-14T19:30:12+09:00", step=1)
    with RunSessionService.open(root, clock=clock, git_probe=lambda: "abc") as service:
        service.ensure_project("p", root)
        with service.record("sweep", project_id="p", note="parent") as sweep:
            for seed in (1, 2):
                with service.record(f"case {seed}", parent_run_id=sweep.run_id) as case:
                    case.metrics.update({"seed": seed, "value": seed / 4, "ok": True, "m": "lp"})
        with pytest.raises(KeyboardInterrupt), service.record("stopped"):
            raise KeyboardInterrupt
        last = service.start("deleted later")
        service.finish_success(last)
        service.edits.delete_run(last.run_id, with_files=True)
    return root / ".runmeta" / "run_history.db"


def _listing(service: RunSessionService) -> list[tuple[object, ...]]:
    return [
        (*run, service.runs.metrics(run.run_id), service.runs.bookkeeping(run.run_id))
        for run in service.runs.list_runs()
    ]


def test_a_history_is_copied_with_its_ids(project: Path, secret_url: str) -> None:
    """Runs, projects, figures, parents and bookkeeping arrive as they were; ids go on."""
    source = _history(project)
    report = copy_history(source, DatabaseUrl(secret_url))
    assert report.copied == (("projects", 1), ("runs", 4), ("run_metrics", 8))
    assert report.next_run_id == 6  # run 5 was deleted: its id is not given again
    assert SECRET not in report.target
    with RunSessionService.open(project) as on_file:
        expected = _listing(on_file)
    with RunSessionService.open(project, database_url=secret_url) as on_server:
        assert _listing(on_server) == expected
        assert on_server.projects.list() == [on_server.projects.get("p")]
        with on_server.record("after the copy") as run:
            assert run.run_id == 6


def test_a_target_that_is_not_empty_is_refused(project: Path, secret_url: str) -> None:
    """A server database holding anything is refused and left as it was."""
    source = _history(project)
    with RunSessionService.open(project, database_url=secret_url) as service:
        service.ensure_project("other", project)
    with pytest.raises(CopyRefusedError, match="already holds 0 runs, 1 project, 0 figures"):
        copy_history(source, DatabaseUrl(secret_url))
    with RunSessionService.open(project, database_url=secret_url) as service:
        assert service.runs.list_runs() == []


def test_an_orphan_child_is_copied_without_its_parent(project: Path, secret_url: str) -> None:
    """A child whose parent row is gone is copied without it, and a note says so."""
    source = _history(project)
    with sqlite3.connect(source) as raw:  # a parent deleted by hand, foreign keys off
        raw.execute("DELETE FROM runs WHERE run_id = 1")
    raw.close()
    report = copy_history(source, DatabaseUrl(secret_url))
    assert report.notes == (
        "run 2 names parent run 1, which is not in the history (orphan-child); copied without"
        " its parent",
        "run 3 names parent run 1, which is not in the history (orphan-child); copied without"
        " its parent",
    )
    with RunSessionService.open(project, database_url=secret_url) as service:
        assert [(r.run_id, r.parent_run_id) for r in service.runs.list_runs()] == [
            (4, None),
            (3, None),
            (2, None),
        ]


def test_the_command_prints_one_line_per_table(
    project: Path, secret_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """migrate-db --from PATH --to URL: a line per table, then the next id; again: refused."""
    source = _history(project)
    capsys.readouterr()
    assert main(["migrate-db", "--from", str(source), "--to", secret_url]) == 0
    out, err = capsys.readouterr()
    shown = DatabaseUrl(secret_url).public
    assert out.splitlines() == [
        "projects: 1 row copied",
        "runs: 4 rows copied",
        "run_metrics: 8 rows copied",
        f"copied {source} into {shown}; the next run id is 6",
    ]
    assert err == ""
    assert main(["migrate-db", "--to", secret_url]) == 1  # --from: the default file
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"runmeta: error: cannot copy .runmeta/run_history.db into {shown}: it already holds"
        " 4 runs, 1 project, 8 figures; migrate-db copies into an empty database only;"
        " nothing was copied\n"
    )
    assert SECRET not in err


def test_the_command_needs_a_server(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --to, --db-url or RUNMETA_DATABASE_URL there is nothing to copy into: exit 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(["migrate-db"])
    assert exit_info.value.code == 2
    assert "give the database to copy into with --to URL" in capsys.readouterr().err
