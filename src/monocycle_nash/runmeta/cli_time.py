"""Time bounds for ``list-runs --from/--to``: user input to the stored ``+09:00`` format.

Stored times are ISO-8601 strings in Japan time with whole seconds
(``2026-02-14T19:30:12+09:00``), so a bound written in that same format compares
correctly as a string. This module turns what a user types into such a bound:

- a date (``2026-02-14``): ``--from`` starts at 00:00:00 of that day, ``--to`` ends at
  23:59:59, so a date-only ``--to`` includes the whole day;
- a date-time without an offset (``2026-02-14T19:30``, ``2026-02-14 19:30:12``): taken as
  Japan time;
- a date-time with any offset (``2026-02-14T10:30:00Z``, ``...+01:00``): converted to
  Japan time first.

Both bounds are inclusive. Fractions of a second round inwards (``--from`` up, ``--to``
down) because stored times have whole seconds.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta

from monocycle_nash.runmeta.clock import JST

__all__ = ["from_bound", "parse_bound", "to_bound"]

_DAY_START = time(0, 0, 0)
_DAY_END = time(23, 59, 59)


def parse_bound(text: str, *, end: bool) -> str:
    """Return ``text`` as an inclusive ``+09:00`` bound; ``end`` selects ``--to`` rounding.

    Raises ``ValueError`` with a user-facing message when ``text`` is not a date or an
    ISO-8601 date-time.
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day, _DAY_END if end else _DAY_START, JST).isoformat()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date (2026-02-14) or an ISO-8601 date-time "
            "(2026-02-14T19:30:12, optionally with an offset such as +09:00 or Z)"
        ) from None
    try:
        moment = moment.replace(tzinfo=JST) if moment.tzinfo is None else moment.astimezone(JST)
        if moment.microsecond:
            moment = moment.replace(microsecond=0)
            if not end:
                moment += timedelta(seconds=1)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range once converted to +09:00") from None
    return moment.isoformat()


def from_bound(text: str) -> str:
    """argparse type for ``--from``: the earliest ``created_at`` to include."""
    try:
        return parse_bound(text, end=False)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def to_bound(text: str) -> str:
    """argparse type for ``--to``: the latest ``created_at`` to include."""
    try:
        return parse_bound(text, end=True)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
