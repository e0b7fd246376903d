"""Number-to-picture mappings shared by the plots: nice axis ticks and a colour map."""

from __future__ import annotations

import math

__all__ = ["COLOR_STOPS", "color_at", "nice_step", "nice_ticks"]

# A perceptually ordered dark-blue -> teal -> yellow map (viridis-like), low to high.
COLOR_STOPS: tuple[tuple[int, int, int], ...] = (
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
)
"""Anchor colours of the power colour map, from lowest to highest."""


def color_at(t: float) -> str:
    """Return the colour map's ``#rrggbb`` at ``t`` in [0, 1] (clamped)."""
    t = min(1.0, max(0.0, t))
    position = t * (len(COLOR_STOPS) - 1)
    index = min(int(position), len(COLOR_STOPS) - 2)
    frac = position - index
    low, high = COLOR_STOPS[index], COLOR_STOPS[index + 1]
    channels = (round(a + (b - a) * frac) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in channels)


def nice_step(span: float, target: int = 5) -> float:
    """Return a step of 1, 2, 2.5 or 5 times a power of ten giving about ``target`` ticks."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, target)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10.0 * power


def nice_ticks(low: float, high: float, target: int = 5) -> tuple[float, ...]:
    """Return the multiples of :func:`nice_step` that lie within ``[low, high]``."""
    step = nice_step(high - low, target)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    # Rounding to the step's decimals keeps ticks like 0.30000000000000004 out.
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return tuple(round(k * step, decimals) + 0.0 for k in range(first, last + 1))
