"""The pages of what runs hold: one run, and runs side by side.

Both read the run's row through the repositories and its folder through
:class:`~monocycle_nash.runmeta.ui.run_files.RunFolder` (checked paths only); the
pieces they share with the other pages come from ``pages.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from monocycle_nash.runmeta.cli_format import format_duration, format_size
from monocycle_nash.runmeta.errors import DatabaseNotFoundError
from monocycle_nash.runmeta.models import RUN_FIELDS, RunRecord
from monocycle_nash.runmeta.repositories import (
    FOREIGN_FOLDER,
    NO_FOLDER,
    RunBookkeeping,
    RunsRepository,
)
from monocycle_nash.runmeta.ui.html import Html, el, join, json_block, scalar, text
from monocycle_nash.runmeta.ui.pages import (
    Page,
    PageError,
    Query,
    Sources,
    address,
    fields_table,
    file_link,
    file_url,
    pre_block,
    project_link,
    run_id_param,
    run_link,
    section,
    status_badge,
    time_element,
)
from monocycle_nash.runmeta.ui.run_files import TEXT_SUFFIXES, FileRefused, RunFolder, figures

__all__ = ["MAX_COMPARED", "compare_page", "run_page_of"]

MAX_COMPARED = 8
"""Runs one comparison shows side by side."""
_INPUT_PREVIEW = 64 * 1024
_COMPARE_PREVIEW = 16 * 1024
_LOG_TAIL = 32 * 1024
_JSON_LIMIT = 1024 * 1024
_MAX_CHILDREN = 200


# --- one run --------------------------------------------------------------------------


def _run_fields(
    run: RunRecord,
    bookkeeping: RunBookkeeping,
    children: Sequence[RunRecord],
    metrics: Mapping[str, object],
) -> Html:
    rows: list[tuple[str, object]] = [
        ("Status", status_badge(run.status)),
        ("Command", el("code", run.command)),
        ("Note", run.note or "-"),
        ("Created", time_element(run.created_at)),
        ("Started", time_element(run.started_at)),
        ("Ended", time_element(run.ended_at)),
        ("Duration", format_duration(run.started_at, run.ended_at, run.status)),
        ("Updated", time_element(run.updated_at)),
        ("Project", project_link(run.project_id)),
    ]
    if run.project_path:
        rows.append(("Project folder", el("code", run.project_path)))
    rows.append(("Git commit", el("code", run.git_commit) if run.git_commit else "-"))
    if bookkeeping.reason:
        rows.append(("Reason", el("span", bookkeeping.reason, class_="reason")))
    if bookkeeping.host:
        rows.append(("Process", f"pid {bookkeeping.pid} on {bookkeeping.host}"))
    if metrics:
        table = fields_table((key, scalar(value)) for key, value in metrics.items())
        rows.append(("Figures", table))
    if run.parent_run_id is not None:
        rows.append(("Parent run", run_link(run.parent_run_id, f"run {run.parent_run_id}")))
    if children:
        shown = children[:_MAX_CHILDREN]
        items = join(
            el("li", run_link(child.run_id), " ", status_badge(child.status), " ", child.note)
            for child in shown
        )
        more = (
            el("a", f"all {len(children):,} child runs", href=address("/", parent=run.run_id))
            if len(children) > len(shown)
            else el("a", "as a table", href=address("/", parent=run.run_id))
        )
        rows.append(("Child runs", join((el("ul", items, class_="children"), more))))
    return fields_table(rows)


def _pictures(folder: RunFolder, files: Sequence[tuple[str, int]]) -> Html | None:
    pictures = [(path, size) for path, size in files if path.lower().endswith(".svg")]
    if not pictures:
        return None
    items = join(
        el(
            "figure",
            el(
                "a",
                el("img", src=file_url(folder.run_id, path), alt=path),
                href=file_url(folder.run_id, path),
            ),
            el("figcaption", file_link(folder.run_id, path, size)),
        )
        for path, size in pictures
    )
    return section("Pictures", el("div", items, class_="pictures"), id_="pictures")


def _outputs(folder: RunFolder, files: Sequence[tuple[str, int]]) -> Html | None:
    outputs = [
        (path, size)
        for path, size in files
        if path.startswith("output/") and not path.lower().endswith(".svg")
    ]
    if not outputs:
        return None
    blocks = []
    others = []
    for path, size in outputs:
        if path.lower().endswith(".json") and size <= _JSON_LIMIT:
            try:
                document = folder.json(path, _JSON_LIMIT)
            except FileRefused as err:
                blocks.append(el("p", file_link(folder.run_id, path, size), f": {err}"))
                continue
            blocks.append(
                el(
                    "details",
                    el("summary", file_link(folder.run_id, path, size)),
                    el("div", json_block(document), class_="json"),
                    open=True,
                )
            )
        else:
            others.append(el("li", file_link(folder.run_id, path, size)))
    other_list = el("ul", join(others), class_="files") if others else None
    return section("Outputs", join(blocks), other_list, id_="outputs")


def _text_files(
    folder: RunFolder, files: Sequence[tuple[str, int]], prefix: str, *, tail: bool
) -> list[Html]:
    blocks = []
    for path, size in files:
        if not path.startswith(prefix):
            continue
        link = file_link(folder.run_id, path, size)
        suffix = Path(path).suffix.lower()
        if suffix not in TEXT_SUFFIXES:
            blocks.append(el("p", link))
            continue
        try:
            preview = folder.tail(path, _LOG_TAIL) if tail else folder.head(path, _INPUT_PREVIEW)
        except FileRefused as err:
            blocks.append(el("p", link, f": {err}", class_="error"))
            continue
        note = None
        if not preview.complete:
            where = "last" if tail else "first"
            note = el(
                "p",
                f"The {where} {format_size(len(preview.text.encode()))} of {format_size(size)}; ",
                el("a", "the whole file", href=file_url(folder.run_id, path)),
                ".",
                class_="more",
            )
        content = pre_block(preview.text) if preview.text else el("p", "(empty)", class_="null")
        blocks.append(el("div", el("h3", link), note, content, class_="text-file"))
    return blocks


def _meta_section(
    run: RunRecord, folder: RunFolder | None, meta: object, problem: str | None
) -> Html:
    if problem is not None or not isinstance(meta, dict):
        return section(
            "meta.json", el("p", problem or "meta.json is not a JSON object", class_="error")
        )
    extra = {key: value for key, value in meta.items() if key not in RUN_FIELDS}
    mismatches = [
        key
        for key in RUN_FIELDS
        if key in meta and key != "project_path" and meta[key] != getattr(run, key)
    ]
    warning = (
        el(
            "p",
            "meta.json disagrees with the database on ",
            ", ".join(mismatches),
            " (runmeta check --repair rewrites it from the row).",
            class_="error",
        )
        if mismatches
        else None
    )
    link = (
        el("p", el("a", "meta.json as stored", href=file_url(run.run_id, "meta.json")))
        if folder is not None
        else None
    )
    return section(
        "meta.json: provenance and more",
        warning,
        el("div", json_block(extra), class_="json"),
        link,
        id_="meta",
    )


def run_page_of(sources: Sources, run_id: int) -> Page:
    """One run: its row, provenance, pictures, outputs, logs, inputs and files."""
    from monocycle_nash.runmeta.artifact_store import list_files, read_meta  # noqa: PLC0415

    try:
        conn = sources.connection()
    except DatabaseNotFoundError as err:
        raise PageError(404, f"run {run_id} not found: {err}") from None
    repository = RunsRepository(conn)
    found = repository.find_by_id(run_id)
    if found is None:
        raise PageError(404, f"run {run_id} not found")
    run, bookkeeping = repository.get_in_full(run_id)
    children = repository.list_children(run_id)
    parts: list[Html | None] = [
        el(
            "h1",
            f"Run {run.run_id} ",
            status_badge(run.status),
            el("span", " ".join(run.note.split()), class_="subtitle") if run.note else None,
        ),
        el(
            "p",
            el("a", "Compare with another run…", href=address("/compare", run=run_id)),
            class_="actions",
        ),
        section(
            "Run", _run_fields(run, bookkeeping, children, repository.metrics(run_id)), id_="run"
        ),
    ]
    folder: RunFolder | None = None
    why_not = None
    if bookkeeping.folder == FOREIGN_FOLDER:
        why_not = f"result/{run_id} was there before the run started: it is not this run's folder"
    elif bookkeeping.folder == NO_FOLDER:
        why_not = "the run ended before it made its folder"
    else:
        try:
            folder = RunFolder(sources.result_root, run_id)
        except FileRefused as err:
            why_not = str(err)
    if folder is None:
        parts.append(section("Files", el("p", f"No files to show: {why_not}.", class_="notice")))
        return Page(f"Run {run_id}", join(parts), "runs")
    files = list_files(folder.path) or []
    meta, problem = read_meta(sources.result_root, run_id)
    logs = _text_files(folder, files, "logs/", tail=True)
    inputs = _text_files(folder, files, "input/", tail=False)
    parts += [
        _pictures(folder, files),
        _outputs(folder, files),
        section("Logs", join(logs), id_="logs") if logs else None,
        section("Inputs", join(inputs), id_="inputs") if inputs else None,
        _meta_section(run, folder, meta, problem),
        section(
            "Files",
            el("ul", join(el("li", file_link(run_id, p, s)) for p, s in files), class_="files"),
            id_="files",
        ),
    ]
    return Page(f"Run {run_id}", join(parts), "runs")


# --- compare --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Compared:
    run: RunRecord
    folder: RunFolder | None
    files: dict[str, int]
    figures: dict[str, object]


def _compared_ids(query: Query) -> list[int]:
    ids: list[int] = []
    for value in query.get("run", ()):
        for item in value.replace(",", " ").split():
            run_id = run_id_param(item, "run")
            if run_id is not None and run_id not in ids:
                ids.append(run_id)
    return sorted(ids)  # oldest on the left, whatever order they were ticked or typed in


def _load_compared(sources: Sources, run_id: int) -> _Compared:
    from monocycle_nash.runmeta.artifact_store import list_files, read_meta  # noqa: PLC0415

    repository = RunsRepository(sources.connection())
    found = repository.find_by_id(run_id)
    if found is None:
        raise PageError(404, f"run {run_id} not found")
    run, bookkeeping = repository.get_in_full(run_id)
    stored = repository.metrics(run_id)
    folder = None
    if bookkeeping.owns_folder:
        try:
            folder = RunFolder(sources.result_root, run_id)
        except FileRefused:
            folder = None
    if folder is None:
        return _Compared(run, None, {}, figures(stored, None, {}))
    files = dict(list_files(folder.path) or [])
    meta, _ = read_meta(sources.result_root, run_id)
    outputs: dict[str, object] = {}
    for path, size in files.items():
        if path.startswith("output/") and path.endswith(".json") and size <= _JSON_LIMIT:
            try:
                outputs[path.removeprefix("output/")] = folder.json(path, _JSON_LIMIT)
            except FileRefused:
                continue
    return _Compared(run, folder, files, figures(stored, meta, outputs))


def _compare_form(ids: Sequence[int], error: str | None) -> Html:
    return el(
        "form",
        el(
            "label",
            el("span", "Runs"),
            el(
                "input",
                name="run",
                id="compare-runs",
                value=" ".join(map(str, ids)),
                placeholder="3 5",
            ),
        ),
        el("div", el("button", "Compare", type="submit"), class_="actions"),
        el("p", error, class_="error", role="alert") if error else None,
        method="get",
        action="/compare",
        class_="filters",
    )


def _row(label: object, cells: Iterable[Html], *, differs: bool = False) -> Html:
    return el(
        "tr",
        el("th", label),
        join(el("td", cell) for cell in cells),
        class_="differs" if differs else None,
    )


def _union(keys: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for group in keys:
        seen.update(dict.fromkeys(group))
    return list(seen)


def compare_page(sources: Sources, query: Query) -> Page:
    """Two or more runs side by side: their rows, figures, inputs and pictures."""
    try:
        ids = _compared_ids(query)
    except PageError as err:
        body = join((el("h1", "Compare runs"), _compare_form((), err.message)))
        return Page("Compare", body, "runs", 400)
    if len(ids) > MAX_COMPARED:
        message = f"at most {MAX_COMPARED} runs side by side ({len(ids)} given)"
        body = join((el("h1", "Compare runs"), _compare_form(ids, message)))
        return Page("Compare", body, "runs", 400)
    if len(ids) < 2:
        hint = "Give two or more run ids, or tick runs in the runs table."
        return Page(
            "Compare",
            join((el("h1", "Compare runs"), _compare_form(ids, None), el("p", hint))),
            "runs",
        )
    try:
        compared = [_load_compared(sources, run_id) for run_id in ids]
    except DatabaseNotFoundError as err:
        raise PageError(404, str(err)) from None
    head = el(
        "thead",
        el(
            "tr",
            el("th", ""),
            join(
                el(
                    "th",
                    run_link(c.run.run_id, f"Run {c.run.run_id}"),
                    " ",
                    status_badge(c.run.status),
                )
                for c in compared
            ),
        ),
    )

    def row(label: str, value: Callable[[RunRecord], object]) -> Html:
        values = [value(c.run) for c in compared]
        shown = [v if isinstance(v, Html) else text(v) for v in values]
        return _row(label, shown, differs=len({str(v) for v in values}) > 1)

    rows = [
        row("Created", lambda r: time_element(r.created_at)),
        row("Duration", lambda r: format_duration(r.started_at, r.ended_at, r.status)),
        row("Project", lambda r: project_link(r.project_id)),
        row("Note", lambda r: r.note or "-"),
        row("Command", lambda r: el("code", r.command)),
        row("Git commit", lambda r: el("code", r.git_commit) if r.git_commit else "-"),
    ]
    sections: list[Html | None] = [
        el("h1", "Compare runs ", ", ".join(str(i) for i in ids)),
        _compare_form(ids, None),
        el("table", head, el("tbody", join(rows)), class_="compare"),
    ]
    names = _union(c.figures for c in compared)
    if names:
        figure_rows = []
        for name in names:
            values = [c.figures.get(name) for c in compared]
            cells = [
                scalar(v) if name in c.figures else text("-")
                for v, c in zip(values, compared, strict=True)
            ]
            figure_rows.append(_row(name, cells, differs=len({repr(v) for v in values}) > 1))
        sections.append(
            section(
                "Figures",
                el("table", head, el("tbody", join(figure_rows)), class_="compare"),
                id_="figures",
            )
        )
    inputs = _union(sorted(p for p in c.files if p.startswith("input/")) for c in compared)
    if inputs:
        input_rows = []
        for path in inputs:
            texts = [_compare_text(c, path) for c in compared]
            input_rows.append(
                _row(
                    path.removeprefix("input/"),
                    (t for t, _ in texts),
                    differs=len({k for _, k in texts}) > 1,
                )
            )
        sections.append(
            section(
                "Inputs",
                el("table", head, el("tbody", join(input_rows)), class_="compare"),
                id_="inputs",
            )
        )
    pictures = _union(sorted(p for p in c.files if p.lower().endswith(".svg")) for c in compared)
    if pictures:
        picture_rows = [
            _row(
                path.removeprefix("output/"),
                (
                    el("img", src=file_url(c.run.run_id, path), alt=f"run {c.run.run_id}: {path}")
                    if path in c.files and c.folder is not None
                    else text("-")
                    for c in compared
                ),
            )
            for path in pictures
        ]
        sections.append(
            section(
                "Pictures",
                el("table", head, el("tbody", join(picture_rows)), class_="compare pictures"),
                id_="pictures",
            )
        )
    title = "Compare runs " + ", ".join(str(i) for i in ids)
    return Page(title, join(sections), "runs")


def _compare_text(compared: _Compared, path: str) -> tuple[Html, str]:
    """A run's input file for the comparison, and a key that equal contents share."""
    if compared.folder is None or path not in compared.files:
        return text("-"), "\0absent"
    if Path(path).suffix.lower() not in TEXT_SUFFIXES:
        size = compared.files[path]
        return file_link(compared.run.run_id, path, size, "the file"), f"\0binary{size}"
    try:
        preview = compared.folder.head(path, _COMPARE_PREVIEW)
    except FileRefused as err:
        return text(str(err)), "\0refused"
    more = (
        el("p", el("a", "the whole file", href=file_url(compared.run.run_id, path)), class_="more")
        if not preview.complete
        else None
    )
    return join((pre_block(preview.text), more)), preview.text
