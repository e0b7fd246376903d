"""The reads of the run browser, all through the repositories: keyed pages, project counts.

The runs page pages through the same search as ``runmeta list-runs``
(:meth:`RunsRepository.iter_listing`, newest first: ``created_at`` descending, then
``run_id`` descending; each filter reads its own index in order), so it holds no SQL of
its own and works on whatever database the repositories speak to. Pages are keyed, not
numbered: the page after run R is the search bounded above by R's ``created_at``
(``to_at``), skipping the few runs of R's own second that come before it, so a page
deep in 10^5 runs costs what the first one does. The page before R (newer runs) is read
from growing time windows above R (``from_at``/``to_at``), until one holds a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from monocycle_nash.runmeta.metrics import MetricCondition
from monocycle_nash.runmeta.models import ListedRun, ProjectRecord
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository

if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection

__all__ = ["PAGE_SIZE", "ProjectCount", "RunFilter", "RunPage", "project_counts", "run_page"]

PAGE_SIZE = 50
"""Runs on one page of the runs table."""
_FIRST_WINDOW = timedelta(minutes=10)
_WINDOW_GROWTH = 8


@dataclass(frozen=True, slots=True)
class RunFilter:
    """The filters of the runs page, as :meth:`RunsRepository.iter_listing` takes them.

    ``from_at`` and ``to_at`` are inclusive ``+09:00`` bounds (``cli.parse_bound``);
    ``search`` a text in the note, command or reason; ``where`` conditions on the
    figures (``metrics.parse_where``). ``None``, ``""`` and ``()`` filter nothing.
    """

    status: str | None = None
    project_id: str | None = None
    from_at: str | None = None
    to_at: str | None = None
    search: str = ""
    parent_run_id: int | None = None
    where: tuple[MetricCondition, ...] = field(default=())

    def arguments(self, *, from_at: str | None = None, to_at: str | None = None) -> dict[str, Any]:
        """Keyword arguments of the repository's search, bounds narrowed to those given."""
        low = max(filter(None, (self.from_at, from_at)), default=None)
        high = min(filter(None, (self.to_at, to_at)), default=None)
        return {
            "from_at": low,
            "to_at": high,
            "status": self.status,
            "project_id": self.project_id,
            "parent_run_id": self.parent_run_id,
            "search": self.search or None,
            "where": self.where,
        }


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs, newest first, with the cursors of the pages beside it.

    ``newer_than`` is the id to pass as ``before`` for the page of newer runs (``None``
    on the first page); ``older_than`` the id to pass as ``after`` for the next one
    (``None`` on the last). ``total`` counts every run matching the filter.
    """

    runs: list[ListedRun]
    total: int
    newer_than: int | None
    older_than: int | None


@contextmanager
def _listing(repository: RunsRepository, **arguments: Any) -> Iterator[Iterator[ListedRun]]:
    """The repository's listing, its cursor closed when the block ends (read or not)."""
    runs = repository.iter_listing(**arguments)
    try:
        yield runs
    finally:
        close = getattr(runs, "close", None)
        if close is not None:
            close()


def _key(run: ListedRun) -> tuple[str, int]:
    return run.record.created_at, run.record.run_id


def _older(
    repository: RunsRepository, run_filter: RunFilter, key: tuple[str, int], count: int
) -> list[ListedRun]:
    """Up to ``count`` runs just older than ``key``, newest first."""
    with _listing(repository, **run_filter.arguments(to_at=key[0])) as listing:
        return list(islice((run for run in listing if _key(run) < key), count))


def _newer(
    repository: RunsRepository, run_filter: RunFilter, key: tuple[str, int], count: int
) -> list[ListedRun]:
    """Up to ``count`` runs just newer than ``key``, newest first."""
    try:
        start = datetime.fromisoformat(key[0])
    except ValueError:
        start = None
    span = _FIRST_WINDOW
    while True:
        upper = None
        if start is not None:
            try:
                upper = (start + span).isoformat()
            except OverflowError:
                upper = None
        reaches_top = upper is None or (run_filter.to_at is not None and upper >= run_filter.to_at)
        arguments = run_filter.arguments(from_at=key[0], to_at=None if reaches_top else upper)
        with _listing(repository, **arguments) as listing:
            found = [run for run in listing if _key(run) > key]
        if len(found) >= count or reaches_top:
            return found[-count:] if found else []
        span *= _WINDOW_GROWTH


def _has_newer(repository: RunsRepository, run_filter: RunFilter, key: tuple[str, int]) -> bool:
    with _listing(repository, **run_filter.arguments(from_at=key[0]), limit=1) as listing:
        return any(_key(run) > key for run in listing)


def run_page(
    conn: Connection,
    run_filter: RunFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> RunPage:
    """Return the page of runs matching ``run_filter``, newest first.

    ``after=R`` gives the runs just older than run R, ``before=R`` those just newer; a
    cursor run that no longer exists gives the first page.
    """
    repository = RunsRepository(conn)
    cursor_id = after if after is not None else before
    cursor = None if cursor_id is None else repository.find_by_id(cursor_id)
    if cursor is None:
        with _listing(repository, **run_filter.arguments(), limit=size + 1) as listing:
            runs = list(listing)
    elif after is not None:
        runs = _older(repository, run_filter, (cursor.created_at, cursor.run_id), size + 1)
    else:
        runs = _newer(repository, run_filter, (cursor.created_at, cursor.run_id), size)
        if runs:
            runs += _older(repository, run_filter, _key(runs[-1]), 1)
    more = len(runs) > size
    runs = runs[:size]
    newer = None
    if cursor is not None and runs and _has_newer(repository, run_filter, _key(runs[0])):
        newer = runs[0].record.run_id
    older = runs[-1].record.run_id if more else None
    if cursor is None and not more:
        total = len(runs)  # the whole answer is on this page: no count needed
    else:
        total = repository.count_runs(**run_filter.arguments())
    return RunPage(runs, total, newer, older)


@dataclass(frozen=True, slots=True)
class ProjectCount:
    """A project with how many runs it has and when its newest one was created."""

    project: ProjectRecord
    runs: int
    newest: str | None


def project_counts(conn: Connection) -> tuple[list[ProjectCount], int]:
    """Return every project (by id) with its run count, and the count of runs without one.

    Two indexed reads per project (a count and the newest run).
    """
    runs = RunsRepository(conn)
    counted = []
    for project in ProjectsRepository(conn).list():
        newest = runs.list_runs(project_id=project.project_id, limit=1)
        count = runs.count_runs(project_id=project.project_id) if newest else 0
        counted.append(ProjectCount(project, count, newest[0].created_at if newest else None))
    return counted, runs.count_runs() - sum(item.runs for item in counted)
