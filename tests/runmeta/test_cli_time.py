"""Tests of the ``--from/--to`` bounds of ``runmeta list-runs``."""

from __future__ import annotations

import argparse

import pytest

from monocycle_nash.runmeta.cli import from_bound, parse_bound, to_bound


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        pytest.param("2026-02-14", False, "2026-02-14T00:00:00+09:00", id="date-from"),
        pytest.param("2026-02-14", True, "2026-02-14T23:59:59+09:00", id="date-to-whole-day"),
        pytest.param("20260214", True, "2026-02-14T23:59:59+09:00", id="basic-date-to"),
        pytest.param("2026-02-14T19:30", False, "2026-02-14T19:30:00+09:00", id="naive-minutes"),
        pytest.param("2026-02-14 19:30:12", True, "2026-02-14T19:30:12+09:00", id="naive-space"),
        pytest.param(
            "2026-02-14T19:30:12+09:00", False, "2026-02-14T19:30:12+09:00", id="jst-as-is"
        ),
        pytest.param("2026-02-14T10:30:12Z", True, "2026-02-14T19:30:12+09:00", id="utc-z"),
        pytest.param(
            "2026-02-14T10:30:00-05:00", False, "2026-02-15T00:30:00+09:00", id="offset-next-day"
        ),
        pytest.param(
            "2026-02-14T19:30:00+05:30", True, "2026-02-14T23:00:00+09:00", id="half-hour-offset"
        ),
        pytest.param(
            "2026-02-14T19:30:12.250", False, "2026-02-14T19:30:13+09:00", id="fraction-from-up"
        ),
        pytest.param(
            "2026-02-14T19:30:12.999", True, "2026-02-14T19:30:12+09:00", id="fraction-to-down"
        ),
        pytest.param(" 2026-02-14 ", False, "2026-02-14T00:00:00+09:00", id="surrounding-space"),
    ],
)
def test_parse_bound_gives_inclusive_jst_bounds(text: str, end: bool, expected: str) -> None:
    """Dates, naive and offset date-times become inclusive +09:00 bounds in the stored form."""
    assert parse_bound(text, end=end) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("yesterday", id="word"),
        pytest.param("2026-02-30", id="no-such-day"),
        pytest.param("2026-13-01T00:00", id="no-such-month"),
        pytest.param("14/02/2026", id="local-format"),
        pytest.param("2026-02-14T25:00", id="no-such-hour"),
    ],
)
def test_parse_bound_refuses_what_is_not_a_time(text: str) -> None:
    """Text that is neither a date nor an ISO-8601 date-time raises ValueError naming it."""
    with pytest.raises(ValueError, match="is not a date"):
        parse_bound(text, end=False)


def test_parse_bound_refuses_a_time_that_overflows_in_jst() -> None:
    """A --from past the end of the calendar in +09:00 is refused; such a --to means no limit."""
    with pytest.raises(ValueError, match="out of range"):
        parse_bound("9999-12-31T23:00:00-05:00", end=False)
    assert parse_bound("9999-12-31T23:00:00-05:00", end=True) == "9999-12-31T23:59:59+09:00"


@pytest.mark.parametrize(
    "convert", [pytest.param(from_bound, id="from"), pytest.param(to_bound, id="to")]
)
def test_argparse_types_raise_argument_type_errors(convert: object) -> None:
    """The argparse type functions turn a bad value into ArgumentTypeError (usage error)."""
    assert callable(convert)
    with pytest.raises(argparse.ArgumentTypeError, match="'soon' is not a date"):
        convert("soon")


def test_date_only_bounds_cover_exactly_that_day() -> None:
    """--from D --to D spans from the first to the last second of day D."""
    low, high = from_bound("2026-02-14"), to_bound("2026-02-14")
    assert low <= "2026-02-14T00:00:00+09:00" <= high
    assert low <= "2026-02-14T23:59:59+09:00" <= high
    assert not low <= "2026-02-13T23:59:59+09:00" <= high
    assert not low <= "2026-02-15T00:00:00+09:00" <= high
