"""Estimate how wide a label is drawn, and shorten long labels with an ellipsis.

No font is read: widths are estimated from character classes (East Asian wide
characters take one em, narrow ones about 0.6 em), which is close enough to decide
where labels fit and when to shorten them.
"""

from __future__ import annotations

import unicodedata

__all__ = ["ELLIPSIS", "shorten", "text_width"]

ELLIPSIS = "\u2026"
"""The character that ends a shortened label."""

_NARROW_EM = 0.62
_WIDE_EM = 1.0


def _char_em(char: str) -> float:
    if unicodedata.combining(char):
        return 0.0
    if unicodedata.east_asian_width(char) in {"W", "F"}:
        return _WIDE_EM
    return _NARROW_EM


def text_width(text: str, font_size: float) -> float:
    """Return the estimated drawn width of ``text`` at ``font_size`` pixels."""
    return sum(_char_em(char) for char in text) * font_size


def shorten(text: str, max_width: float, font_size: float) -> str:
    """Return ``text`` unchanged if it fits in ``max_width``, else a prefix plus an ellipsis."""
    if text_width(text, font_size) <= max_width:
        return text
    budget = max_width - text_width(ELLIPSIS, font_size)
    used = 0.0
    kept: list[str] = []
    for char in text:
        used += _char_em(char) * font_size
        if used > budget:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS
