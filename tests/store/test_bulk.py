"""The batched insert path stores exactly what SQLAlchemy's own binding would.

``bulk_bind_processor`` skips wrappers and remembers values; these tests hold its
output equal to the processor SQLAlchemy builds, on the three dialects, and check that
remembering never lets a value through that the column would refuse.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.records import RunRecord
from bithumb_llm_trader.store import open_store
from bithumb_llm_trader.store.types import (
    ExactDecimal,
    JSONText,
    UTCDateTime,
    bulk_bind_processor,
)

DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(),  # type: ignore[no-untyped-call]
    "mariadb": mysql.dialect(),  # type: ignore[no-untyped-call]
    "postgresql": postgresql.dialect(),  # type: ignore[no-untyped-call]
}
KST = timezone(timedelta(hours=9))

money = st.decimals(min_value=Decimal("-1e19"), max_value=Decimal("1e19"), places=18,
                    allow_nan=False, allow_infinity=False)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.sampled_from([timezone.utc, KST]))


def sqlalchemy_processor(column_type: TypeEngine[Any], dialect: Dialect) -> Any:
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


def both(column_type: TypeEngine[Any], dialect: Dialect) -> tuple[Any, Any]:
    fast = bulk_bind_processor(column_type, dialect) or (lambda value: value)
    return fast, sqlalchemy_processor(column_type, dialect)


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
@given(value=money)
def test_money_is_bound_as_sqlalchemy_would(dialect: Dialect, value: Decimal) -> None:
    fast, reference = both(ExactDecimal(), dialect)
    assert fast(value) == reference(value)
    assert fast(value) == reference(value)  # the remembered answer too


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
@given(value=instants)
def test_datetimes_are_bound_as_sqlalchemy_would(dialect: Dialect, value: datetime) -> None:
    fast, reference = both(UTCDateTime(), dialect)
    assert fast(value) == reference(value)
    assert fast(value) == reference(value)


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_json_and_nulls_are_bound_as_sqlalchemy_would(dialect: Dialect) -> None:
    payload = {"b": [Decimal("1.50"), None], "a": "x", "when": datetime(2025, 9, 1, tzinfo=KST)}
    for column_type, value in ((JSONText(), payload), (JSONText(), None),
                               (ExactDecimal(), None), (UTCDateTime(), None)):
        fast, reference = both(column_type, dialect)
        assert fast(value) == reference(value)


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_remembering_never_admits_what_the_column_refuses(dialect: Dialect) -> None:
    money_of = bulk_bind_processor(ExactDecimal(), dialect)
    time_of = bulk_bind_processor(UTCDateTime(), dialect)
    assert money_of is not None and time_of is not None
    money_of(Decimal(1))
    aware = datetime(2025, 9, 1, tzinfo=timezone.utc)
    time_of(aware)
    with pytest.raises(StoreError, match="float"):
        money_of(1.0)  # equal to Decimal(1), and still no money
    with pytest.raises(StoreError, match="naive"):
        time_of(aware.replace(tzinfo=None))
    with pytest.raises(StoreError, match="finite"):
        money_of(Decimal("NaN"))
    with pytest.raises(StoreError, match="decimal places"):
        money_of(Decimal("0.0000000000000000001"))


def test_an_overlong_string_leaves_the_whole_batch_unwritten(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    started = datetime(2025, 9, 1, tzinfo=timezone.utc)
    good = RunRecord(run_id="a", strategy="s", market="KRW-BTC", mode="dry",
                     started_at=started)
    bad = RunRecord(run_id="b" * 200, strategy="s", market="KRW-BTC", mode="dry",
                    started_at=started)
    with pytest.raises(StoreError, match=r"cron_runs\.run_id: 200 characters"):
        store.write([good, bad])
    assert store.first_equity_since("s", started - timedelta(days=1), "dry") is None
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM cron_runs").scalar() == 0
    store.close()
