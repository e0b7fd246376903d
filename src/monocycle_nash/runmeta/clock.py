"""Japan-time timestamps in one fixed format, from an injectable clock; display zones.

Every time the runmeta library stores is an ISO-8601 string with seconds precision and
the +09:00 offset, e.g. ``2026-02-14T19:30:12+09:00``. Because every stored value has
the same width and offset, string order equals time order, which the SQL filters use.

Storage never changes zone, but a person may read and type times in their own: a
:class:`DisplayZone` (``runmeta --tz``, ``RUNMETA_TZ``, :func:`parse_zone`) converts
stored times for display and gives typed times without an offset their zone. The
system's local time (``local``) works without any time zone data (Python asks the C
library, instant by instant, so daylight saving is right); a named zone (``Europe/Paris``)
needs the system's zone files or the ``tzdata`` package, and is loaded only when asked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

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
    "JST_ZONE",
    "Clock",
    "DisplayZone",
    "FixedClock",
    "JstClock",
    "format_timestamp",
    "normalize_timestamp",
    "parse_timestamp",
    "parse_zone",
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


class DisplayZone:
    """The time zone a person reads and types times in; storage stays in +09:00.

    ``label`` names it in table headers (``+09:00``, ``UTC``, ``local``,
    ``Europe/Paris``); ``tz`` is the ``tzinfo``, or ``None`` for the system's local time
    (converted by the C library, daylight saving included, without time zone data).
    """

    __slots__ = ("label", "tz")

    def __init__(self, label: str, tz: tzinfo | None) -> None:
        """A zone called ``label``; ``tz=None`` is the system's local time."""
        self.label = label
        self.tz = tz

    @property
    def is_storage(self) -> bool:
        """Whether this is the storage zone (+09:00): stored strings show as they are."""
        return self.tz is JST

    def convert(self, moment: datetime) -> datetime:
        """``moment`` (aware) in this zone. Raises ``OverflowError``/``OSError`` at the
        edges of the calendar (the local time of year 1 or 9999)."""
        return moment.astimezone(self.tz)

    def attach(self, naive: datetime) -> datetime:
        """The aware time that ``naive`` (a wall-clock time in this zone) stands for.

        In a gap or an overlap of daylight saving, Python's rule (``fold=0``) picks it.
        Raises ``OverflowError``/``OSError``/``ValueError`` when the system cannot place
        a local time that far away.
        """
        if self.tz is None:
            return naive.astimezone()  # a naive datetime is taken as local time
        return naive.replace(tzinfo=self.tz)

    def __repr__(self) -> str:
        return f"DisplayZone({self.label!r})"


JST_ZONE = DisplayZone("+09:00", JST)
"""The storage zone, the default of every display."""

_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?")


def parse_zone(text: str) -> DisplayZone:
    """Read a zone: ``local``, ``UTC`` (or ``Z``), ``JST``, an offset (``+02:00``,
    ``-0530``, ``+9``) or an IANA name (``Europe/Paris``, ``Asia/Tokyo``).

    Raises ``ValueError`` with a one-line message for anything else, including a name
    that this system has no time zone data for.
    """
    value = text.strip()
    lowered = value.lower()
    if lowered == "local":
        return DisplayZone("local", None)
    if lowered in {"utc", "z"}:
        return DisplayZone("UTC", UTC)
    if lowered == "jst":
        return JST_ZONE
    match = _OFFSET.fullmatch(value)
    if match is not None:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"{text!r} is not an offset between -23:59 and +23:59")
        delta = timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
        if delta == timedelta(hours=9):
            return JST_ZONE
        label = f"{sign}{hours:02d}:{minutes:02d}"
        return DisplayZone("UTC" if not delta else label, timezone(delta))
    return DisplayZone(value, _named_zone(text, value))


def _named_zone(text: str, name: str) -> tzinfo:
    """The IANA zone ``name``, from the system's zone files or ``tzdata``."""
    import zoneinfo  # noqa: PLC0415 - only a named zone pays for it

    usage = "give local, UTC, an offset such as +02:00, or a name such as Europe/Paris"
    if not name:
        raise ValueError(f"an empty time zone; {usage}")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    if not _has_zone_data():
        raise ValueError(
            f"time zone {text!r} cannot be loaded: this system has no time zone data"
            " (install the tzdata package); local and offsets such as +02:00 work without it"
        )
    raise ValueError(f"unknown time zone {text!r}; {usage}")


def _has_zone_data() -> bool:
    """Whether any IANA zone can be loaded here (system zone files or ``tzdata``)."""
    import importlib.util  # noqa: PLC0415 - see _named_zone
    import zoneinfo  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    if importlib.util.find_spec("tzdata") is not None:
        return True
    return any((Path(folder) / "UTC").is_file() for folder in zoneinfo.TZPATH)
