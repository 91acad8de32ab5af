"""The column types' conversions, without a database; the property tests use real ones."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest

from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.store.types import (
    DecimalSum,
    canonical_decimal,
    decimal_from_db,
    dump_json,
    load_json,
    plain_decimal_text,
)


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("150.000"), "150"),
    (Decimal("0.50"), "0.5"),
    (Decimal("1.5E+2"), "150"),
    (Decimal("1E-7"), "0.0000001"),
    (Decimal("-0.000"), "0"),
    (Decimal("-0"), "0"),
    (Decimal("0E-18"), "0"),
    (Decimal("12345678901234567890.123456789012345678"),
     "12345678901234567890.123456789012345678"),
    (Decimal("-99999999999999999999.999999999999999999"),
     "-99999999999999999999.999999999999999999"),
    (7, "7"),
])
def test_canonical_decimal_is_plain_exact_text(value: Decimal | int, text: str) -> None:
    assert canonical_decimal(value) == text


@pytest.mark.parametrize(("value", "why"), [
    (Decimal("100000000000000000000"), "more than 20 integer digits"),
    (Decimal("1E+20"), "more than 20 integer digits"),
    (Decimal("0.0000000000000000001"), "more than 18 decimal places"),
    (Decimal("1") / Decimal("3"), "more than 18 decimal places"),
    (Decimal("NaN"), "finite"),
    (Decimal("-Infinity"), "finite"),
    (0.1, "float"),
    ("1.5", "str"),
    (True, "bool"),
])
def test_canonical_decimal_refuses_what_cannot_be_stored_exactly(value: object, why: str) -> None:
    with pytest.raises(StoreError, match=why):
        canonical_decimal(value)


def test_trailing_zeros_beyond_the_scale_are_not_a_loss() -> None:
    assert canonical_decimal(Decimal("1.50000000000000000000000")) == "1.5"


def test_results_come_back_without_exponent_or_trailing_zeros() -> None:
    for raw, expected in [(Decimal("150.000000000000000000"), "150"), ("0.50", "0.5"),
                          (Decimal("1E+2"), "100"), (3, "3"), (0.25, "0.25")]:
        result = decimal_from_db(raw)
        assert str(result) == expected
    assert decimal_from_db(None) is None
    assert plain_decimal_text(Decimal("1.000E+3")) == "1000"


def test_dsum_is_exact_and_null_when_empty() -> None:
    summer = DecimalSum()
    assert summer.finalize() is None
    for value in ["0.1", "0.2", None, "99999999999999999999.999999999999999999", 1]:
        summer.step(value)
    assert summer.finalize() == "100000000000000000001.299999999999999999"


class Colour(Enum):
    RED = "red"


def test_json_is_deterministic_and_keeps_decimals_as_text() -> None:
    payload = {"b": Decimal("1.10"), "a": [Decimal("-0"), date(2026, 1, 2)],
               "c": datetime(2026, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=9))),
               "d": Colour.RED, "e": frozenset({"y", "x"}), "f": "원화"}
    text = dump_json(payload)
    assert text == ('{"a":["0","2026-01-02"],"b":"1.1","c":"2026-01-02T03:04:00+09:00",'
                    '"d":"red","e":["x","y"],"f":"원화"}')
    assert dump_json(dict(reversed(list(payload.items())))) == text


def test_json_numbers_load_as_decimal_never_float() -> None:
    assert load_json('{"x": 0.1, "y": 2}') == {"x": Decimal("0.1"), "y": 2}


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": float("nan")}])
def test_json_refuses_what_it_cannot_write_faithfully(bad: object) -> None:
    with pytest.raises(StoreError, match="JSON"):
        dump_json(bad)
