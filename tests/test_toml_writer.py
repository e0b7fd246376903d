"""Tests of the tiny TOML writer: whatever it writes, tomllib reads back unchanged."""

from __future__ import annotations

import datetime as dt
import math
import random
import tomllib

import pytest

from monocycle_nash.toml_writer import dumps

JST = dt.timezone(dt.timedelta(hours=9))


def _roundtrip(document: dict[str, object]) -> dict[str, object]:
    return tomllib.loads(dumps(document))


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"a": 1, "b": -2, "c": 2**63 - 1, "d": -(2**63)}, id="integers"),
        pytest.param({"t": True, "f": False}, id="booleans"),
        pytest.param({"x": 0.1, "y": -1e-300, "z": 1e300, "w": 5e-324, "n": -0.0}, id="floats"),
        pytest.param({"s": 'quote " back \\ tab \t nl \n cr \r bell \x07 del \x7f'}, id="escapes"),
        pytest.param({"s": "じゃんけん ✊✋✌ 𝄞", "empty": ""}, id="unicode"),
        pytest.param({"key with spaces": 1, "dotted.key": 2, "ü": 3, "": 4}, id="quoted-keys"),
        pytest.param(
            {"labels": ["a", "b"], "matrix": [[0.0, -1.0], [1.0, 0.0]], "empty": []},
            id="nested-arrays",
        ),
        pytest.param(
            {"characters": [{"label": "A", "p": 0.0, "v": [2.0, 0.0]}, {"label": "B"}]},
            id="array-of-tables",
        ),
        pytest.param(
            {"top": 1, "a": {"b": {"c": {"d": 1}}, "x": "y"}, "empty": {}, "z": {"w": {}}},
            id="nested-tables",
        ),
        pytest.param(
            {
                "odt": dt.datetime(2026, 2, 14, 19, 30, 12, tzinfo=JST),
                "ldt": dt.datetime(2026, 2, 14, 19, 30, 12, 123456),
                "date": dt.date(2026, 2, 14),
                "time": dt.time(7, 32, 0, 5),
            },
            id="dates-and-times",
        ),
    ],
)
def test_documents_round_trip(document: dict[str, object]) -> None:
    """tomllib reads back exactly the document that was written."""
    assert _roundtrip(document) == document


def test_special_floats_round_trip() -> None:
    """inf, -inf and nan are written in TOML's own spelling."""
    back = _roundtrip({"values": [math.inf, -math.inf, math.nan]})
    values = back["values"]
    assert isinstance(values, list)
    assert values[:2] == [math.inf, -math.inf]
    assert math.isnan(values[2])


def test_random_floats_round_trip_bit_for_bit() -> None:
    """Random floats of every magnitude come back identical."""
    rng = random.Random(5)
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-320, 300) for _ in range(2000)]
    assert _roundtrip({"v": values}) == {"v": values}


def test_tables_come_after_plain_keys() -> None:
    """Plain keys given after a table still belong to the top level."""
    text = dumps({"game": {"matrix": [[0.0]]}, "name": "late"})
    assert tomllib.loads(text) == {"game": {"matrix": [[0.0]]}, "name": "late"}
    assert text.index("name =") < text.index("[game]")


@pytest.mark.parametrize(
    ("document", "error"),
    [
        pytest.param({"a": None}, TypeError, id="none"),
        pytest.param({"a": b"bytes"}, TypeError, id="bytes"),
        pytest.param({"a": object()}, TypeError, id="object"),
        pytest.param({"a": 2**63}, ValueError, id="int-too-large"),
        pytest.param({1: 2}, TypeError, id="non-string-key"),
    ],
)
def test_values_toml_cannot_hold_are_refused(document: dict[object, object], error: type) -> None:
    """A value TOML cannot hold raises instead of writing a wrong document."""
    with pytest.raises(error):
        dumps(document)  # type: ignore[arg-type]
