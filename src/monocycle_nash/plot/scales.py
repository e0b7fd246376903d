"""Number-to-picture mappings shared by the plots: nice axis ticks and a colour map."""

from __future__ import annotations

import math
import sys

from monocycle_nash.plot.svg import fmt, format_number

__all__ = ["COLOR_STOPS", "color_at", "nice_step", "nice_ticks", "tick_text"]

_SMALLEST = math.ulp(0.0)
"""The smallest positive float (a subnormal, 5e-324)."""

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
    """Return a step of 1, 2, 2.5 or 5 times a power of ten giving about ``target`` ticks.

    Any positive finite ``span`` works, from a subnormal one (``5e-324``) to the largest
    float; a zero, negative or non-finite span gives 1.
    """
    if span <= 0 or not math.isfinite(span):
        return 1.0
    # A span of a few subnormals divided by the target underflows to 0: keep the smallest.
    raw = max(span / max(1, target), _SMALLEST)
    exponent = math.floor(math.log10(raw))
    for power in (exponent, exponent + 1):
        for factor in (1, 2, 2.5, 5):
            # Parsed from decimal text: 10.0 ** power underflows to 0 below 1e-323.
            step = float(f"{factor}e{power}")
            if step > 0 and raw <= step * (1 + 1e-9):
                return step
    return float(f"1e{exponent + 2}")  # pragma: no cover - 10 * 10**exponent >= raw


def nice_ticks(low: float, high: float, target: int = 5) -> tuple[float, ...]:
    """Return the multiples of :func:`nice_step` that lie within ``[low, high]``.

    Works for any finite range (subnormal or close to the largest float); a range with a
    non-finite end has no ticks.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return ()
    span = high - low
    step = nice_step(span if math.isfinite(span) else sys.float_info.max, target)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    if last - first > 10 * max(1, target):  # pragma: no cover - the step bounds the count
        return ()
    # Rounding to the step's decimals keeps ticks like 0.30000000000000004 out.
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return tuple(round(k * step, decimals) + 0.0 for k in range(first, last + 1))


def tick_text(value: float) -> str:
    """Write an axis tick: plain decimals from 1e-4 to 1e7, otherwise 6 significant digits.

    ``1e+149`` rather than 150 digits, ``5e-05`` rather than ``0``.
    """
    if value == 0 or 1e-4 <= abs(value) < 1e7:
        return fmt(value, 6)
    return format_number(value, 6)
