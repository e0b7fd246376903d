"""HTML built safely: escaped by default, elements, the page shell, JSON values as tables.

Every string handed to :func:`el` or :func:`join` is escaped unless it is :class:`Html`
(markup this module made). Text from the history goes through :func:`text`, which also
shows control and bidirectional characters as escapes (``\\x1b``, ``\\u202e``), as the
``runmeta`` command does on a terminal: a note can neither inject markup nor reorder
the line it is shown on.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence

from monocycle_nash.text import printable

__all__ = [
    "Html",
    "el",
    "join",
    "json_block",
    "number",
    "page",
    "preformatted",
    "scalar",
    "text",
]

MAX_TABLE_ROWS = 200
"""Rows of one JSON list shown on a page; the rest is in the file, one link away."""
MAX_MATRIX_SIZE = 40
"""Rows and columns of a matrix shown as a table; a larger one is only named."""
MAX_DEPTH = 4
"""Levels of nested JSON objects shown as nested tables."""
MAX_INLINE_ITEMS = 12
"""Items of a list of numbers or words shown on one line."""


class Html(str):
    """Markup that is safe as it is: made by this module from escaped parts."""

    __slots__ = ()


def text(value: object) -> Html:
    """Return ``value`` as escaped text, its control and bidi characters shown as escapes."""
    return Html(html.escape(printable(str(value)), quote=True))


def preformatted(content: str) -> Html:
    """Return a file's text for ``<pre>``: escaped, line breaks and tabs kept as they are."""
    return Html(html.escape(printable(content, keep="\n\t"), quote=True))


def _child(part: object) -> str:
    if isinstance(part, Html):
        return part
    if part is None:
        return ""
    return text(part)


def join(parts: Iterable[object], separator: str = "") -> Html:
    """Concatenate markup and text (escaped); ``None`` parts are left out."""
    return Html(html.escape(separator).join(_child(part) for part in parts if part is not None))


_VOID = frozenset({"br", "img", "input", "link", "meta", "hr", "col"})


def el(tag: str, /, *children: object, **attributes: object) -> Html:
    """Return element ``tag`` holding ``children``; attribute values are escaped.

    A trailing underscore is dropped from an attribute name (``class_``) and other
    underscores become dashes (``aria_label``); ``True`` writes a bare attribute,
    ``False`` and ``None`` leave it out.
    """
    parts = [tag]
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        attribute = key.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(attribute)
        else:
            parts.append(f'{attribute}="{html.escape(str(value), quote=True)}"')
    opening = f"<{' '.join(parts)}>"
    if tag in _VOID:
        return Html(opening)
    return Html(f"{opening}{join(children)}</{tag}>")


def number(value: float | int) -> Html:
    """A number as people read it (six significant digits), exact in its title."""
    if isinstance(value, bool):
        return text(str(value).lower())
    if isinstance(value, int):
        return el("span", f"{value:,}" if abs(value) >= 10_000 else str(value), class_="num")
    if not math.isfinite(value):
        return el("span", str(value), class_="num")
    shown = f"{value:.6g}"
    return el("span", shown, class_="num", title=repr(value) if shown != repr(value) else None)


def page(title: str, body: Html, *, active: str = "", footer: Html | None = None) -> bytes:
    """Return a whole page: head, navigation (``active`` marks one entry), body, footer."""
    links = (("runs", "/", "Runs"), ("projects", "/projects", "Projects"))
    nav = join(
        el("a", label, href=href, aria_current="page" if key == active else None)
        for key, href, label in links
    )
    document = join(
        (
            Html("<!DOCTYPE html>\n"),
            el(
                "html",
                el(
                    "head",
                    el("meta", charset="utf-8"),
                    el("meta", name="viewport", content="width=device-width, initial-scale=1"),
                    el("title", f"{title} · runmeta"),
                    el("link", rel="stylesheet", href="/static/style.css"),
                    el("link", rel="icon", href="/static/favicon.svg", type="image/svg+xml"),
                ),
                el(
                    "body",
                    el("header", el("span", "runmeta", class_="brand"), el("nav", nav)),
                    el("main", body),
                    el("footer", footer) if footer is not None else None,
                ),
                lang="en",
            ),
        )
    )
    return document.encode("utf-8")


# --- JSON values as small tables ------------------------------------------------------

JsonValue = object
"""A value ``json.loads`` returns."""


def _is_scalar(value: JsonValue) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def scalar(value: JsonValue) -> Html:
    """One JSON scalar: numbers formatted, ``null`` and booleans as JSON spells them."""
    if value is None:
        return el("span", "null", class_="null")
    if isinstance(value, (bool, int, float)):
        return number(value)
    return text(value)


def _inline_list(values: Sequence[JsonValue]) -> Html:
    shown = [scalar(value) for value in values[:MAX_INLINE_ITEMS]]
    more = len(values) - len(shown)
    tail = el("span", f" … {more:,} more", class_="more") if more > 0 else None
    return join((join(shown, ", "), tail))


def _matrix(values: Sequence[Sequence[JsonValue]], labels: Sequence[JsonValue] | None) -> Html:
    size = max(len(values), max((len(row) for row in values), default=0))
    if size > MAX_MATRIX_SIZE:
        width = max((len(row) for row in values), default=0)
        return el("span", f"a {len(values)} \u00d7 {width} matrix (in the file)", class_="more")
    head = None
    if labels is not None:
        head = el("thead", el("tr", el("th", ""), join(el("th", text(label)) for label in labels)))
    rows = []
    for index, row in enumerate(values):
        label = el("th", text(labels[index])) if labels is not None else None
        rows.append(el("tr", label, join(el("td", scalar(cell)) for cell in row)))
    return el("table", head, el("tbody", join(rows)), class_="data matrix")


def _is_matrix(value: JsonValue) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(row, list) and all(_is_scalar(c) for c in row) for row in value)
    )


def _records(values: Sequence[Mapping[str, JsonValue]], depth: int) -> Html:
    """A list of objects as one table, a column per key (in order of appearance)."""
    columns: dict[str, None] = {}
    for item in values[:MAX_TABLE_ROWS]:
        columns.update(dict.fromkeys(item))
    head = el("thead", el("tr", join(el("th", text(name)) for name in columns)))
    rows = [
        el("tr", join(el("td", _value(item.get(name), depth + 1)) for name in columns))
        for item in values[:MAX_TABLE_ROWS]
    ]
    more = len(values) - MAX_TABLE_ROWS
    caption = el("caption", f"first {MAX_TABLE_ROWS} of {len(values):,} rows") if more > 0 else None
    return el("table", caption, head, el("tbody", join(rows)), class_="data")


def _labelled_columns(data: Mapping[str, JsonValue]) -> tuple[list[str], Html | None]:
    """The lists of an object that run beside its ``labels``, as one table (or none)."""
    labels = data.get("labels")
    if not (isinstance(labels, list) and labels and all(_is_scalar(x) for x in labels)):
        return [], None
    keys = [
        key
        for key, value in data.items()
        if key != "labels"
        and isinstance(value, list)
        and len(value) == len(labels)
        and all(_is_scalar(x) for x in value)
    ]
    if not keys:
        return [], None
    head = el("thead", el("tr", el("th", "labels"), join(el("th", text(key)) for key in keys)))
    rows = []
    for index, label in enumerate(labels[:MAX_TABLE_ROWS]):
        cells = join(el("td", scalar(data[key][index])) for key in keys)  # type: ignore[index]
        rows.append(el("tr", el("th", text(label)), cells))
    more = len(labels) - MAX_TABLE_ROWS
    caption = el("caption", f"first {MAX_TABLE_ROWS} of {len(labels):,} rows") if more > 0 else None
    return ["labels", *keys], el("table", caption, head, el("tbody", join(rows)), class_="data")


def _object(data: Mapping[str, JsonValue], depth: int) -> Html:
    used, columns = _labelled_columns(data)
    labels = data.get("labels") if used else None
    rows = []
    for key, value in data.items():
        if key in used:
            continue
        if _is_matrix(value) and isinstance(labels, list) and len(value) == len(labels):  # type: ignore[arg-type]
            shown = _matrix(value, labels)  # type: ignore[arg-type]
        else:
            shown = _value(value, depth + 1)
        rows.append(el("tr", el("th", text(key)), el("td", shown)))
    table = el("table", el("tbody", join(rows)), class_="data fields") if rows else None
    return join((columns, table))


def _value(value: JsonValue, depth: int) -> Html:
    if _is_scalar(value):
        return scalar(value)
    if depth > MAX_DEPTH:
        return el("span", "(nested deeper: see the file)", class_="more")
    if isinstance(value, dict):
        return _object(value, depth) if value else el("span", "{}", class_="null")
    if isinstance(value, list):
        return _list(value, depth)
    return text(repr(value))


def _list(value: list[JsonValue], depth: int) -> Html:
    if not value:
        shown = el("span", "[]", class_="null")
    elif all(_is_scalar(item) for item in value):
        shown = _inline_list(value)
    elif all(isinstance(item, dict) for item in value):
        shown = _records(value, depth)  # type: ignore[arg-type]
    elif _is_matrix(value):
        shown = _matrix(value, None)  # type: ignore[arg-type]
    else:
        items = [el("li", _value(item, depth + 1)) for item in value[:MAX_TABLE_ROWS]]
        shown = el("ol", join(items), start="0")
    return shown


def json_block(value: JsonValue) -> Html:
    """Return a JSON document as small tables: objects as fields, lists of objects as rows.

    An object's lists that run beside its ``labels`` list (one entry per label, such
    as an equilibrium's strategy) become columns of one table, and a square matrix of
    that size gets the labels on both sides. Long lists and deep nesting are cut, with
    a note; the link to the file shows the rest.
    """
    return _value(value, 0)
