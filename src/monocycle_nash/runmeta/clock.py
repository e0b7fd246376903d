"""Japan-time timestamps in one fixed format, from an injectable clock.

Every time the runmeta library stores is an ISO-8601 string with seconds precision and
the +09:00 offset, e.g. ``2026-02-14T19:30:12+09:00``. Because every stored value has
the same width and offset, string order equals time order, which the SQL filters use.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monocycle_nash.runmeta.errors import InvalidTimestampError

# `Clock` is a Protocol for the type checker only: importing typing at run time would
# cost the runmeta CLI about a tenth of its start-up, and nothing checks it at run time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object

__all__ = [
    "JST",
    "Clock",
    "FixedClock",
    "JstClock",
    "format_timestamp",
    "normalize_timestamp",
    "parse_timestamp",
]

JST = timezone(timedelta(hours=9), "JST")
"""Japan Standard Time, UTC+09:00 (no daylight saving)."""


class Clock(Protocol):
    """Source of the current time; inject one to pin time in tests."""

    def now(self) -> datetime:
        """Return the current time as an aware datetime."""

    def timestamp(self) -> str:
        """Return the current time formatted like ``2026-02-14T19:30:12+09:00``."""


def format_timestamp(moment: datetime) -> str:
    """Format an aware datetime in Japan time with seconds precision.

    Naive datetimes are refused: a time without an offset is ambiguous.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidTimestampError(moment.isoformat(), "a time zone offset is required")
    return moment.astimezone(JST).isoformat(timespec="seconds")


def parse_timestamp(value: str) -> datetime:
    """Read an ISO-8601 timestamp that carries an offset (``Z`` is accepted for UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidTimestampError(value) from None
    if moment.tzinfo is None:
        raise InvalidTimestampError(value, "a time zone offset such as +09:00 is required")
    return moment


def normalize_timestamp(value: str | datetime) -> str:
    """Return the stored form (+09:00, seconds) of a timestamp string or aware datetime."""
    moment = parse_timestamp(value) if isinstance(value, str) else value
    return format_timestamp(moment)


class JstClock:
    """The real clock, reading the system time and expressing it in Japan time."""

    __slots__ = ()

    def now(self) -> datetime:
        """Return the current time in Japan time."""
        return datetime.now(JST)

    def timestamp(self) -> str:
        """Return the current time formatted like ``2026-02-14T19:30:12+09:00``."""
        return datetime.now(JST).isoformat(timespec="seconds")


class FixedClock:
    """A clock for tests: starts at ``start`` and advances by ``step`` on every reading."""

    __slots__ = ("_current", "_step")

    def __init__(self, start: str | datetime, step: timedelta | float = 0.0) -> None:
        self._current = parse_timestamp(start) if isinstance(start, str) else start
        if self._current.tzinfo is None:
            raise InvalidTimestampError(self._current.isoformat(), "a time zone is required")
        self._step = step if isinstance(step, timedelta) else timedelta(seconds=step)

    def now(self) -> datetime:
        """Return the pinned time in Japan time, then advance it by the step."""
        moment = self._current.astimezone(JST)
        self._current += self._step
        return moment

    def timestamp(self) -> str:
        """Return the pinned time formatted like ``2026-02-14T19:30:12+09:00``."""
        return format_timestamp(self.now())
