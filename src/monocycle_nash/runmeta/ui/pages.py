"""The run browser's shared page pieces, and the pages of lists: runs and projects.

Each page function takes the request's :class:`Sources` (the database, opened on
first use, and the result root) and its query parameters, and returns a
:class:`Page`, or raises :class:`PageError` (a 400 or a 404 with a message). Pages
are plain HTML forms and links: they need no JavaScript, and the site sends none. The
pages of one run and of a comparison are in ``run_pages.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from monocycle_nash.runmeta.cli_format import format_duration, format_size
from monocycle_nash.runmeta.errors import DatabaseNotFoundError
from monocycle_nash.runmeta.models import RUN_STATUSES, ListedRun
from monocycle_nash.runmeta.repositories import ProjectsRepository
from monocycle_nash.runmeta.ui.html import (
    Html,
    el,
    join,
    number,
    preformatted,
    scalar,
    text,
)
from monocycle_nash.runmeta.ui.queries import RunFilter, project_counts, run_page

if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection
from monocycle_nash.text import plural

__all__ = [
    "Page",
    "PageError",
    "Query",
    "Sources",
    "address",
    "fields_table",
    "file_link",
    "file_url",
    "pre_block",
    "project_link",
    "projects_page",
    "run_id_param",
    "run_link",
    "run_url",
    "runs_page",
    "section",
    "status_badge",
    "time_element",
]

Query = Mapping[str, Sequence[str]]
"""Query parameters as ``urllib.parse.parse_qs`` returns them."""


class PageError(Exception):
    """A request the page cannot answer: ``status`` (400, 404) and a message for people."""

    def __init__(self, status: int, message: str) -> None:
        """Refuse with HTTP ``status`` and ``message``."""
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Page:
    """A page to send: its title, body, the navigation entry it belongs to, its status."""

    title: str
    body: Html
    active: str = ""
    status: int = 200


class Sources:
    """What one request reads: the database (opened on first use) and the result root."""

    __slots__ = ("_connect", "_connection", "db_label", "result_root")

    def __init__(self, connect: Callable[[], Connection], result_root: Path, db_label: str) -> None:
        """Read through ``connect()`` (called at most once) and below ``result_root``."""
        self._connect = connect
        self._connection: Connection | None = None
        self.result_root = result_root
        self.db_label = db_label

    def connection(self) -> Connection:
        """The request's connection; :class:`DatabaseNotFoundError` when there is no database."""
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def close(self) -> None:
        """Close the connection if one was opened."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


# --- small pieces ---------------------------------------------------------------------


def query_value(query: Query, name: str) -> str:
    values = query.get(name) or ()
    return values[-1].strip() if values else ""


def run_id_param(value: str, name: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) < 1 or len(value) > 18:
        raise PageError(400, f"{name} must be a run id (a positive whole number), not {value!r}")
    return int(value)


def address(path: str, **params: object) -> str:
    pairs = [(key, str(value)) for key, value in params.items() if value not in (None, "")]
    return path + ("?" + urlencode(pairs) if pairs else "")


def run_url(run_id: int) -> str:
    """The address of a run's page."""
    return f"/runs/{run_id}"


def file_url(run_id: int, relative: str) -> str:
    """The address of a file of a run's folder."""
    return f"/runs/{run_id}/files/{quote(relative, errors='surrogateescape')}"


def status_badge(status: str) -> Html:
    return el("span", status, class_=f"status status-{status}")


def time_element(stamp: str | None) -> Html:
    if not stamp:
        return text("-")
    shown = stamp[:10] + " " + stamp[11:19] if stamp.endswith("+09:00") else stamp
    return el("time", shown, datetime=stamp, title=stamp)


def run_link(run_id: int, label: str | None = None) -> Html:
    return el("a", label or f"#{run_id}", href=run_url(run_id))


def project_link(project_id: str | None) -> Html:
    if not project_id:
        return text("-")
    return el("a", project_id, href=address("/", project=project_id))


def pre_block(content: str) -> Html:
    return el("pre", el("code", preformatted(content)), class_="file")


def fields_table(rows: Iterable[tuple[str, object]]) -> Html:
    body = join(el("tr", el("th", name), el("td", value)) for name, value in rows)
    return el("table", el("tbody", body), class_="fields")


def _no_database(sources: Sources, err: DatabaseNotFoundError) -> Html:
    return el("p", str(err), " (nothing recorded yet).", class_="notice")


def section(title: str, *content: object, id_: str | None = None) -> Html:
    return el("section", el("h2", title), *content, id=id_)


def file_link(run_id: int, relative: str, size: int, label: str | None = None) -> Html:
    return join(
        (
            el("a", label or relative, href=file_url(run_id, relative)),
            el("span", f" ({format_size(size)})", class_="size"),
        )
    )


# --- runs -----------------------------------------------------------------------------


def _run_filter(query: Query) -> RunFilter:
    # parse_bound lives with the CLI: the same times are accepted in both places.
    from monocycle_nash.runmeta.cli import parse_bound  # noqa: PLC0415 - a cycle at import
    from monocycle_nash.runmeta.metrics import parse_where  # noqa: PLC0415 - as parse_bound

    status = query_value(query, "status")
    if status and status not in RUN_STATUSES:
        raise PageError(400, f"unknown status {status!r}; one of {', '.join(RUN_STATUSES)}")
    bounds: dict[str, str | None] = {}
    for name, end in (("from", False), ("to", True)):
        value = query_value(query, name)
        try:
            bounds[name] = parse_bound(value, end=end) if value else None
        except ValueError as err:
            raise PageError(400, f"{name}: {err}") from None
    low, high = bounds["from"], bounds["to"]
    if low is not None and high is not None and low > high:
        raise PageError(400, f"from ({low}) is later than to ({high})")
    where = query_value(query, "where")
    try:
        conditions = tuple(parse_where(where)) if where else ()
    except ValueError as err:
        raise PageError(400, f"figures: {err}") from None
    return RunFilter(
        status=status or None,
        project_id=query_value(query, "project") or None,
        from_at=low,
        to_at=high,
        search=query_value(query, "q"),
        parent_run_id=run_id_param(query_value(query, "parent"), "parent"),
        where=conditions,
    )


def _filter_form(query: Query, projects: Sequence[str], error: str | None) -> Html:
    status = query_value(query, "status")
    project = query_value(query, "project")
    status_options = join(
        el("option", label or "any", value=value, selected=value == status)
        for value, label in (("", ""), *((s, s) for s in RUN_STATUSES))
    )
    known = list(projects)
    if project and project not in known:
        known.append(project)
    project_options = join(
        (
            el("option", "any", value="", selected=not project),
            join(el("option", p, value=p, selected=p == project) for p in known),
        )
    )

    def field(label: str, control: Html) -> Html:
        return el("label", el("span", label), control)

    parent = query_value(query, "parent")
    return el(
        "form",
        field("Status", el("select", status_options, name="status", id="status")),
        field("Project", el("select", project_options, name="project", id="project")),
        field(
            "From",
            el(
                "input",
                name="from",
                id="from",
                value=query_value(query, "from"),
                placeholder="2026-02-14",
            ),
        ),
        field(
            "To",
            el(
                "input",
                name="to",
                id="to",
                value=query_value(query, "to"),
                placeholder="2026-02-28",
            ),
        ),
        field(
            "Search",
            el(
                "input",
                type="search",
                name="q",
                id="q",
                value=query_value(query, "q"),
                placeholder="note, command or reason",
            ),
        ),
        field(
            "Figures",
            el(
                "input",
                name="where",
                id="where",
                value=query_value(query, "where"),
                placeholder="support_size=3, value<0.1",
            ),
        ),
        el("input", type="hidden", name="parent", value=parent) if parent else None,
        el(
            "div",
            el("button", "Filter", type="submit"),
            el("a", "Clear", href="/"),
            class_="actions",
        ),
        el("p", error, class_="error", role="alert") if error else None,
        method="get",
        action="/",
        class_="filters",
    )


_FIGURES_SHOWN = 4
"""Figures of a run shown in the runs table (all are on the run's page)."""


def _figures_cell(metrics: Mapping[str, object]) -> Html:
    items = list(metrics.items())
    shown = join(
        (
            el("span", el("span", key, class_="key"), "=", scalar(value), class_="figure")
            for key, value in items[:_FIGURES_SHOWN]
        ),
        " ",
    )
    more = len(items) - _FIGURES_SHOWN
    return join((shown, el("span", f" +{more}", class_="more") if more > 0 else None))


def _runs_table(runs: Sequence[ListedRun]) -> Html:
    with_figures = any(run.metrics for run in runs)
    names = ["Run", "Status", "Created (+09:00)", "Duration", "Project", "Note"]
    if with_figures:
        names.append("Figures")
    head = el(
        "thead",
        el(
            "tr",
            el("th", el("span", "Compare", class_="visually-hidden")),
            join(el("th", name) for name in names),
            el("th", "Command"),
        ),
    )
    rows = []
    for listed in runs:
        run = listed.record
        parent = (
            el("span", " child of ", run_link(run.parent_run_id), class_="parent")
            if run.parent_run_id is not None
            else None
        )
        note = " ".join(run.note.split())
        reason = el("span", listed.reason, class_="reason") if listed.reason else None
        rows.append(
            el(
                "tr",
                el(
                    "td",
                    el(
                        "input",
                        type="checkbox",
                        name="run",
                        value=run.run_id,
                        aria_label=f"compare run {run.run_id}",
                    ),
                ),
                el("td", run_link(run.run_id), parent, class_="id"),
                el("td", status_badge(run.status)),
                el("td", time_element(run.created_at)),
                el("td", format_duration(run.started_at, run.ended_at, run.status), class_="num"),
                el("td", project_link(run.project_id)),
                el("td", note, Html("<br>") if note and reason else None, reason, class_="note"),
                el("td", _figures_cell(listed.metrics), class_="figures") if with_figures else None,
                el("td", el("code", run.command), class_="command", title=run.command),
                data_status=run.status,
            )
        )
    return el("table", head, el("tbody", join(rows)), class_="runs")


def runs_page(sources: Sources, query: Query) -> Page:
    """The runs, newest first, 50 a page, with the filters of ``runmeta list-runs``."""
    error = None
    status = 200
    try:
        run_filter = _run_filter(query)
    except PageError as err:
        run_filter, error, status = None, err.message, err.status
    try:
        conn = sources.connection()
    except DatabaseNotFoundError as err:
        form = _filter_form(query, (), error)
        body = join((el("h1", "Runs"), form, _no_database(sources, err)))
        return Page("Runs", body, "runs", status)
    projects = [project.project_id for project in ProjectsRepository(conn).list()]
    form = _filter_form(query, projects, error)
    if run_filter is None:
        return Page("Runs", join((el("h1", "Runs"), form)), "runs", status)
    after = run_id_param(query_value(query, "after"), "after")
    before = run_id_param(query_value(query, "before"), "before")
    page = run_page(conn, run_filter, after=after, before=before)
    params = {
        key: query_value(query, key)
        for key in ("status", "project", "from", "to", "q", "where", "parent")
    }
    heading = "Runs"
    if run_filter.parent_run_id is not None:
        heading = f"Child runs of run {run_filter.parent_run_id}"
    summary = f"{plural(page.total, 'run')} {'match' if page.total != 1 else 'matches'}"
    if not any(params.values()):
        summary = f"{plural(page.total, 'run')} in the history"
    if page.total > len(page.runs):
        summary += f"; showing {len(page.runs)}, newest first"
    pager = el(
        "nav",
        el("a", "\u00ab Newest", href=address("/", **params))
        if page.newer_than is not None
        else None,
        el("a", "\u2039 Newer", href=address("/", **params, before=page.newer_than), rel="prev")
        if page.newer_than is not None
        else None,
        el("a", "Older \u203a", href=address("/", **params, after=page.older_than), rel="next")
        if page.older_than is not None
        else None,
        class_="pager",
        aria_label="pages",
    )
    table = (
        el(
            "form",
            _runs_table(page.runs),
            el("button", "Compare selected runs", type="submit"),
            method="get",
            action="/compare",
            class_="compare-form",
        )
        if page.runs
        else el("p", "No run matches these filters.", class_="notice")
    )
    body = join((el("h1", heading), form, el("p", summary, class_="summary"), table, pager))
    return Page(heading, body, "runs", status)


# --- projects -------------------------------------------------------------------------


def projects_page(sources: Sources, query: Query) -> Page:
    """The projects with their run counts."""
    try:
        projects, unattached = project_counts(sources.connection())
    except DatabaseNotFoundError as err:
        return Page(
            "Projects", join((el("h1", "Projects"), _no_database(sources, err))), "projects"
        )
    head = el(
        "thead",
        el(
            "tr",
            join(
                el("th", name)
                for name in ("Project", "Runs", "Newest run", "Folder", "Registered", "Note")
            ),
        ),
    )
    rows = [
        el(
            "tr",
            el("td", project_link(item.project.project_id)),
            el("td", number(item.runs), class_="num"),
            el("td", time_element(item.newest)),
            el("td", el("code", item.project.project_path)),
            el("td", time_element(item.project.created_at)),
            el("td", item.project.note, class_="note"),
        )
        for item in projects
    ]
    table = (
        el("table", head, el("tbody", join(rows)), class_="runs projects")
        if rows
        else el("p", "No project is registered (runmeta add-project).", class_="notice")
    )
    summary = el(
        "p",
        f"{plural(len(projects), 'project')}; {plural(unattached, 'run')} without a project.",
        class_="summary",
    )
    return Page("Projects", join((el("h1", "Projects"), summary, table)), "projects")
