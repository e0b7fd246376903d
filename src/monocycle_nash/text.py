"""Text helpers shared by the domain, the app and runmeta: cell widths, ellipses, escapes.

Terminal cells (:func:`cell_width`), shortening with an ellipsis (:func:`fit`), a
count with its noun (:func:`plural`) and text made safe for a terminal
(:func:`printable`) are meant to exist once: use these rather than write another. This
module imports nothing from ``monocycle_nash``, so both sides of the layering rule (the
domain never imports runmeta, runmeta never imports the domain) may use it. The
``runmeta list-runs`` start-up loads it: keep its imports cheap.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ELLIPSIS", "cell_width", "fit", "plural", "printable"]

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


# Bidirectional controls: they reorder what follows on the line (U+202E shows "txt.exe"
# as "exe.txt"), so a name holding one can pose as another.
_BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
_LINE_SEPARATORS = frozenset({0x2028, 0x2029})


def printable(text: str, *, keep: str = "") -> str:
    """Return ``text`` safe to print on a terminal: controls shown as escapes, not obeyed.

    C0 and C1 control characters and DEL become ``\\x1b``-style escapes, bidirectional
    controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) and the Unicode
    line and paragraph separators ``\\u202e``-style ones, so a note or a path can
    neither move the cursor, recolour the terminal nor reorder the line it is printed
    on. A lone surrogate (an undecodable byte of a file name, as Python's
    ``surrogateescape`` hands it over) shows as the byte it stands for (``\\xff``),
    so printing never fails. Characters in ``keep`` (say ``"\\n"`` for a multi-line
    message) pass unchanged; everything else, wide and combining characters included,
    is left as it is. Backslashes are not doubled: the escapes are for reading, not for
    parsing back. The result is ASCII wherever it differs from ``text``, so
    :func:`cell_width` measures it right.
    """
    if text.isprintable():  # the common case, in C; no character below needs escaping
        return text
    return "".join(ch if ch in keep else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\x{code:02x}"
    if code in _BIDI_CONTROLS or code in _LINE_SEPARATORS:
        return f"\\u{code:04x}"
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return ch
