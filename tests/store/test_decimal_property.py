"""Property: any amount of up to 18 integer digits and 18 decimals survives every backend,
and ``money_sum`` of such amounts is their exact sum."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Context, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, delete, insert, select
from sqlalchemy.exc import StatementError

from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.store import ExactDecimal, SqlStore, money_sum

probe_metadata = MetaData()
money_probe = Table(
    "money_probe", probe_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("amount", ExactDecimal(), nullable=True),
)
EXACT = Context(prec=100)


@st.composite
def amounts(draw: st.DrawFn) -> Decimal:
    """Plain-text decimals: sign, 0..18 integer digits, 0..18 decimals (zeros included)."""
    integer = draw(st.integers(0, 10**18 - 1))
    places = draw(st.integers(0, 18))
    fraction = draw(st.integers(0, 10**places - 1)) if places else 0
    sign = "-" if draw(st.booleans()) else ""
    return Decimal(f"{sign}{integer}" + (f".{fraction:0{places}d}" if places else ""))


@pytest.fixture
def probe(store: SqlStore) -> Iterator[SqlStore]:
    probe_metadata.create_all(store.engine)
    try:
        yield store
    finally:
        probe_metadata.drop_all(store.engine)


def _round_trip(store: SqlStore, values: list[Decimal]) -> tuple[list[Decimal], Decimal | None]:
    total = money_sum(money_probe.c.amount, store.dialect_name)
    with store.engine.begin() as conn:
        conn.execute(delete(money_probe))
        conn.execute(insert(money_probe), [{"id": i, "amount": v} for i, v in enumerate(values)])
        loaded = list(conn.execute(select(money_probe.c.amount).order_by(money_probe.c.id))
                      .scalars())
        summed = conn.execute(select(total)).scalar_one()
    return loaded, summed


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(amounts(), min_size=1, max_size=12))
def test_amounts_round_trip_exactly_and_sum_exactly(probe: SqlStore, values: list[Decimal]
                                                     ) -> None:
    loaded, summed = _round_trip(probe, values)
    assert loaded == values
    for stored, original in zip(loaded, values, strict=True):
        assert _shape(stored) == _plain(original)
    assert summed == _exact_sum(values)
    assert summed is not None and _shape(summed) == _plain(summed)


def _plain(value: Decimal) -> tuple[str, int]:
    """The shape a stored amount must come back in: plain digits, no trailing zeros,
    and the exponent that parsing that text gives (never positive: 150, not 1.5E+2)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = "0" if text == "-0" else text
    return text, Decimal(text).as_tuple().exponent  # type: ignore[return-value]


def _shape(value: Decimal) -> tuple[str, int]:
    return format(value, "f"), value.as_tuple().exponent  # type: ignore[return-value]


def _exact_sum(values: list[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def test_the_largest_and_smallest_amounts_fit(probe: SqlStore) -> None:
    edge = [Decimal("99999999999999999999.999999999999999999"),
            Decimal("-99999999999999999999.999999999999999999"),
            Decimal("0.000000000000000001"), Decimal("150.000"), Decimal("0.50")]
    loaded, summed = _round_trip(probe, edge)
    assert [format(v, "f") for v in loaded] == [
        "99999999999999999999.999999999999999999", "-99999999999999999999.999999999999999999",
        "0.000000000000000001", "150", "0.5"]
    assert str(summed) == "150.500000000000000001"


@pytest.mark.parametrize("value", [Decimal("100000000000000000000"), Decimal("1E-19"),
                                   Decimal("NaN"), Decimal("Infinity")])
def test_every_backend_refuses_the_same_unstorable_amounts(probe: SqlStore, value: Decimal
                                                           ) -> None:
    with pytest.raises(StatementError) as caught:  # SQLAlchemy wraps errors of binding
        _round_trip(probe, [value])
    assert isinstance(caught.value.orig, StoreError)
