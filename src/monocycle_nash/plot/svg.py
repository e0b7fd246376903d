"""A tiny, deterministic SVG writer: escaped text, fixed number format, no external refs.

Every picture in ``monocycle_nash.plot`` is built with :class:`SvgBuilder`. Attribute order
is the order the caller gives, numbers are written with :func:`fmt` (caption numbers with
:func:`format_number`), and text goes through :func:`clean_text` and XML escaping, so the
same input always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "FONT_FAMILY",
    "AttrValue",
    "SvgBuilder",
    "clean_text",
    "escape_attr",
    "escape_text",
    "fmt",
    "format_number",
    "id_prefix",
]

FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, 'Noto Sans CJK JP', 'Hiragino Sans', sans-serif"
"""Font families named by the pictures: common system fonts, no font files are embedded."""

AttrValue = str | int | float
"""What an attribute value may be: floats are written with :func:`fmt`."""

# Characters XML 1.0 forbids (C0 controls except tab/newline/return, lone surrogates,
# U+FFFE/U+FFFF). A label holding one would make the whole file unreadable.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fmt(value: float, digits: int = 2) -> str:
    """Write a number with at most ``digits`` decimals, no trailing zeros, never ``-0``."""
    if not math.isfinite(value):
        raise ValueError(f"cannot write the non-finite number {value!r} into an SVG")
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def format_number(value: float, digits: int = 4) -> str:
    """Format a caption number with ``digits`` significant digits, never ``-0``."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}g}"
    return "0" if text in {"-0", "0", "-0.0"} else text


def clean_text(text: str) -> str:
    """Replace characters that XML 1.0 cannot hold with U+FFFD."""
    return _FORBIDDEN.sub("\ufffd", text)


def _escape(text: str, extra: Mapping[str, str] | None = None) -> str:
    # What xml.sax.saxutils.escape does, without the urllib.request and http.client
    # that importing it loads on the main job's start.
    text = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for char, entity in (extra or {}).items():
        text = text.replace(char, entity)
    return text


def escape_text(text: str) -> str:
    """Escape element text (``&``, ``<``, ``>``) after :func:`clean_text`."""
    return _escape(clean_text(text))


def escape_attr(text: str) -> str:
    """Escape a double-quoted attribute value, including quotes and line breaks."""
    return _escape(
        clean_text(text),
        {'"': "&quot;", "'": "&apos;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"},
    )


def id_prefix(kind: str, data: object) -> str:
    """Return an element-id prefix derived from the data (deterministic).

    Several SVGs inlined in one HTML page (a notebook) share one id space; deriving ids
    from the plotted data keeps different pictures from using each other's definitions.
    """
    digest = hashlib.sha256()
    _feed_repr(digest, data)
    return f"mn-{kind}-{digest.hexdigest()[:10]}"


_REPR_BATCH = 8192


def _feed_repr(digest: Any, data: object) -> None:
    """Feed ``repr(data)`` to ``digest`` piece by piece, never building the whole text.

    Lists and tuples are opened here and their items' reprs joined a batch at a time (a
    million-character roster's repr is hundreds of megabytes); the bytes fed are exactly
    those of ``repr(data)``, so the ids do not depend on the data's size.
    """
    if type(data) not in (list, tuple):
        digest.update(repr(data).encode("utf-8", "surrogatepass"))
        return
    items: Sequence[object] = data  # type: ignore[assignment]
    is_tuple = type(data) is tuple
    digest.update(b"(" if is_tuple else b"[")
    for start in range(0, len(items), _REPR_BATCH):
        if start:
            digest.update(b", ")
        batch = items[start : start + _REPR_BATCH]
        if any(_is_long_sequence(item) for item in batch):
            for index, item in enumerate(batch):
                if index:
                    digest.update(b", ")
                _feed_repr(digest, item)
        else:
            digest.update(", ".join(map(repr, batch)).encode("utf-8", "surrogatepass"))
    if is_tuple and len(items) == 1:
        digest.update(b",")
    digest.update(b")" if is_tuple else b"]")


def _is_long_sequence(item: object) -> bool:
    """A plain list or tuple too long to repr in one piece (not a subclass: its repr differs)."""
    return type(item) in (list, tuple) and len(item) > _REPR_BATCH  # type: ignore[arg-type]


def _attr_text(value: AttrValue) -> str:
    if isinstance(value, bool):
        raise TypeError("SVG attributes take strings or numbers, not booleans")
    if isinstance(value, float):
        return fmt(value)
    return str(value)


class SvgBuilder:
    """Collect SVG elements and write one standalone document.

    ``width`` and ``height`` are in pixels and also give the ``viewBox``. Elements are
    written in the order they are added; :meth:`open` and :meth:`close` nest groups.
    """

    def __init__(self, width: float, height: float, *, title: str, description: str = "") -> None:
        """Start a document of the given size whose ``<title>`` is ``title``."""
        self.width = width
        self.height = height
        self._lines: list[str] = []
        self._open: list[str] = []
        self.element("title", text=title)
        if description:
            self.element("desc", text=description)

    def _indent(self) -> str:
        return "  " * (len(self._open) + 1)

    @staticmethod
    def _attrs(attrs: Mapping[str, AttrValue]) -> str:
        return "".join(
            f' {name}="{escape_attr(_attr_text(value))}"' for name, value in attrs.items()
        )

    def element(
        self,
        tag: str,
        attrs: Mapping[str, AttrValue] | None = None,
        *,
        text: str | None = None,
        title: str | None = None,
    ) -> None:
        """Add one element; ``text`` is its content, ``title`` a tooltip child."""
        head = f"<{tag}{self._attrs(attrs or {})}"
        if text is None and title is None:
            self._lines.append(f"{self._indent()}{head}/>")
            return
        inner = "" if text is None else escape_text(text)
        if title is not None:
            inner += f"<title>{escape_text(title)}</title>"
        self._lines.append(f"{self._indent()}{head}>{inner}</{tag}>")

    def page(self, heading: str, *, margin: float) -> None:
        """Add what every picture starts with: a white background and a bold ``heading``."""
        self.element(
            "rect", {"x": 0, "y": 0, "width": self.width, "height": self.height, "fill": "#ffffff"}
        )
        self.element(
            "text",
            {"class": "heading", "x": margin, "y": 34, "font-size": 18, "font-weight": "bold"},
            text=heading,
        )

    def open(self, tag: str, attrs: Mapping[str, AttrValue] | None = None) -> None:
        """Open a container element (``g``, ``defs``, ``marker``...); close it with close()."""
        self._lines.append(f"{self._indent()}<{tag}{self._attrs(attrs or {})}>")
        self._open.append(tag)

    def close(self) -> None:
        """Close the innermost open container."""
        tag = self._open.pop()
        self._lines.append(f"{self._indent()}</{tag}>")

    def to_string(self) -> str:
        """Return the whole document (XML declaration, ``<svg>`` root, trailing newline)."""
        if self._open:
            raise RuntimeError(f"unclosed SVG elements: {self._open}")
        root = (
            '<svg xmlns="http://www.w3.org/2000/svg" version="1.1"'
            f' width="{fmt(self.width)}" height="{fmt(self.height)}"'
            f' viewBox="0 0 {fmt(self.width)} {fmt(self.height)}"'
            f' font-family="{escape_attr(FONT_FAMILY)}">'
        )
        body = "\n".join(self._lines)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{root}\n{body}\n</svg>\n'
