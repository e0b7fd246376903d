"""Text helpers shared by the domain, the app and runmeta: cell widths, ellipses, plurals.

Terminal cells (:func:`cell_width`), shortening with an ellipsis (:func:`fit`) and a
count with its noun (:func:`plural`) are meant to exist once: use these rather than
write another. This module imports nothing from ``monocycle_nash``, so both sides of
the layering rule (the domain never imports runmeta, runmeta never imports the domain)
may use it. The ``runmeta list-runs`` start-up loads it: keep its imports cheap.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ELLIPSIS", "cell_width", "fit", "plural"]

ELLIPSIS = "..."
"""What :func:`fit` ends a shortened text with unless told otherwise; ASCII, so that any
console encoding can print it."""


def cell_width(text: str) -> int:
    """Return how many terminal cells ``text`` takes (wide East Asian characters take 2)."""
    if text.isascii():
        return len(text)
    import unicodedata  # noqa: PLC0415 - loaded only once a non-ASCII text appears

    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def fit(
    text: str,
    width: float,
    *,
    ellipsis: str = ELLIPSIS,
    measure: Callable[[str], float] | None = None,
) -> str:
    """Return ``text``, or its start followed by ``ellipsis``, taking at most ``width``.

    ``measure`` tells how wide a text is: terminal cells (:func:`cell_width`) unless
    given; a message can pass ``len`` to count characters, a drawing its own estimate
    (in pixels, say). When not even ``ellipsis`` fits, the part of it that does is
    returned.
    """
    size = measure or cell_width
    if size(text) <= width:
        return text
    room = width - size(ellipsis)
    if room < 0:
        return _start(ellipsis, width, measure)
    return _start(text, room, measure) + ellipsis


def _start(text: str, width: float, measure: Callable[[str], float] | None) -> str:
    """The longest start of ``text`` that takes at most ``width`` (cells by default)."""
    if measure is None:
        if text.isascii():
            return text[: int(width)]
        measure = cell_width
    used = 0.0
    for index, ch in enumerate(text):
        used += measure(ch)
        if used > width:
            return text[:index]
    return text


def plural(count: int, noun: str, many: str | None = None) -> str:
    """Return ``"1 run"``, ``"2 runs"``: the count and its noun, plural unless 1.

    The plural is ``noun + "s"`` unless ``many`` spells it (``"strategies"``).
    """
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many if many is not None else noun + 's'}"
