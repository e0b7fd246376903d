"""Estimate how wide a label is drawn, and shorten long labels with an ellipsis.

No font is read: widths are estimated from the terminal cells a character takes
(:func:`monocycle_nash.text.cell_width`): East Asian wide characters take one em,
narrow ones about 0.6 em, combining marks nothing. That is close enough to decide
where labels fit and when to shorten them.
"""

from __future__ import annotations

from monocycle_nash.text import cell_width, fit

__all__ = ["ELLIPSIS", "shorten", "text_width"]

ELLIPSIS = "\u2026"
"""The character that ends a shortened label."""

_EM_PER_CELLS = (0.0, 0.62, 1.0)
"""Estimated width in em of a character taking 0, 1 or 2 terminal cells."""


def text_width(text: str, font_size: float) -> float:
    """Return the estimated drawn width of ``text`` at ``font_size`` pixels."""
    return sum(_EM_PER_CELLS[cell_width(char)] for char in text) * font_size


def shorten(text: str, max_width: float, font_size: float) -> str:
    """Return ``text`` unchanged if it fits in ``max_width``, else a prefix plus an ellipsis.

    This is :func:`monocycle_nash.text.fit` measured in estimated pixels, with two habits
    of drawn labels: spaces before the ellipsis are dropped, and a label too long even for
    the ellipsis alone still shows the ellipsis (a label never vanishes).
    """
    short = fit(
        text, max_width, ellipsis=ELLIPSIS, measure=lambda part: text_width(part, font_size)
    )
    if short == text:
        return text
    return short.removesuffix(ELLIPSIS).rstrip() + ELLIPSIS
