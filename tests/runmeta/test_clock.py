"""Tests of the Japan-time clock and timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monocycle_nash.runmeta.clock import (
    FixedClock,
    JstClock,
    format_timestamp,
    normalize_timestamp,
    parse_timestamp,
)
from monocycle_nash.runmeta.errors import InvalidTimestampError


def test_format_is_seconds_with_jst_offset() -> None:
    """An aware time is written in +09:00 with seconds precision."""
    moment = datetime(2026, 2, 14, 10, 30, 12, 987654, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-02-14T19:30:12+09:00"


def test_naive_time_is_refused() -> None:
    """A datetime without an offset cannot be stored."""
    with pytest.raises(InvalidTimestampError):
        format_timestamp(datetime(2026, 2, 14, 19, 30, 12))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-02-14T19:30:12+09:00", "2026-02-14T19:30:12+09:00", id="jst"),
        pytest.param("2026-02-14T10:30:12Z", "2026-02-14T19:30:12+09:00", id="utc-z"),
        pytest.param("2026-02-14T05:30:12-05:00", "2026-02-14T19:30:12+09:00", id="minus-five"),
    ],
)
def test_normalize_converts_any_offset_to_jst(text: str, expected: str) -> None:
    """Any offset is converted to the stored +09:00 form."""
    assert normalize_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("yesterday", id="words"),
        pytest.param("2026-02-14T19:30:12", id="no-offset"),
    ],
)
def test_unreadable_or_naive_text_is_refused(text: str) -> None:
    """Text that is not an ISO time with an offset raises a typed error."""
    with pytest.raises(InvalidTimestampError, match="invalid time"):
        parse_timestamp(text)


def test_fixed_clock_advances_by_its_step() -> None:
    """A fixed clock returns its start, then start + step, and so on."""
    clock = FixedClock("2026-02-14T19:30:12+09:00", timedelta(seconds=30))
    assert [clock.timestamp() for _ in range(3)] == [
        "2026-02-14T19:30:12+09:00",
        "2026-02-14T19:30:42+09:00",
        "2026-02-14T19:31:12+09:00",
    ]


def test_real_clock_reads_jst() -> None:
    """The real clock reports +09:00 times in the stored format."""
    stamp = JstClock().timestamp()
    assert stamp.endswith("+09:00")
    assert normalize_timestamp(stamp) == stamp
    assert JstClock().now().utcoffset() == timedelta(hours=9)
