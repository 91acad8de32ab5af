"""``BackgroundWriter``: a child process stores batches exactly as ``SqlStore.write``,
one at a time, and every failure comes back to the parent as a ``StoreError``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.records import PositionRecord, RunRecord
from bithumb_llm_trader.store import SqlStore, open_store
from bithumb_llm_trader.store.background import BackgroundWriter, pack_batch, unpack_batch
from bithumb_llm_trader.store.schema import RECORD_FIELDS, RECORD_TYPES
from bithumb_llm_trader.store.sql_store import record_values

from .samples import cycle_batch, position, read_all, run


@pytest.fixture
def target(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'background.db'}")
    yield store
    store.close()


def writer_for(store: SqlStore) -> BackgroundWriter:
    return BackgroundWriter(store.engine.url.render_as_string(hide_password=False),
                            label=store.label)


def test_batches_are_stored_as_the_store_itself_would(target: SqlStore,
                                                      tmp_path: Path) -> None:
    reference = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    writer = writer_for(target)
    try:
        for number in range(3):
            batch = cycle_batch(f"run-{number}") if number == 0 else [
                record for record in cycle_batch(f"run-{number}")
                if type(record).__name__ not in ("FillRecord", "OrderRecord",
                                                 "TwapRunRecord", "TwapSliceRecord")]
            writer.write(batch)
            reference.write(batch)
        writer.wait()
        for record_type in RECORD_TYPES:
            assert read_all(target, record_type) == read_all(reference, record_type)
        assert len(read_all(target, RunRecord)) == 3  # something was compared
    finally:
        writer.close()
        reference.close()


def test_a_failed_batch_is_reported_and_the_next_one_still_goes(target: SqlStore) -> None:
    writer = writer_for(target)
    try:
        writer.write([run("same"), run("same")])  # the second breaks the primary key
        with pytest.raises(StoreError, match=r"cron_runs|UNIQUE|unique"):
            writer.wait()
        writer.write([run("other")])
        writer.wait()
        assert [r.run_id for r in read_all(target, RunRecord)] == ["other"]
    finally:
        writer.close()


def test_an_overlong_value_fails_in_the_child_with_the_usual_message(target: SqlStore) -> None:
    writer = writer_for(target)
    try:
        writer.write([run("r" * 200)])
        with pytest.raises(StoreError, match=r"cron_runs\.run_id: 200 characters"):
            writer.wait()
    finally:
        writer.close()


def test_a_dead_writer_is_an_error_not_a_hang(target: SqlStore) -> None:
    writer = writer_for(target)
    try:
        writer._process.kill()  # what a crash of the child looks like
        writer._process.wait()
        with pytest.raises(StoreError, match="writer process"):
            writer.write([run("lost")])
            writer.wait()
    finally:
        writer.close()  # closing a dead writer is fine too


def test_idle_says_whether_the_batch_in_flight_is_stored(target: SqlStore) -> None:
    writer = writer_for(target)
    try:
        assert writer.idle()  # nothing in flight
        writer.write([run("r1")])
        deadline = time.monotonic() + 30
        while not writer.idle():  # the child answers once the batch is committed
            assert time.monotonic() < deadline, "the batch was never stored"
            time.sleep(0.01)
        assert [r.run_id for r in read_all(target, RunRecord)] == ["r1"]
        writer.wait()  # the answer is there: no waiting
    finally:
        writer.close()


def test_nothing_to_write_sends_nothing(target: SqlStore,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    writer = writer_for(target)
    sent: list[object] = []
    monkeypatch.setattr(writer, "_post", sent.append)  # what would go down the pipe
    try:
        writer.write([])
        assert sent == []
        assert writer.idle()  # no batch in flight: nothing to wait for
        writer.wait()
    finally:
        writer.close()
    writer.close()  # twice is harmless
    for record_type in RECORD_TYPES:
        assert read_all(target, record_type) == []


@given(st.lists(st.one_of(st.none(), st.decimals(allow_nan=True, allow_infinity=True)),
                min_size=1, max_size=20))
def test_a_packed_batch_gives_back_the_same_decimals_digit_for_digit(
        amounts: list[Decimal | None]) -> None:
    """Money crosses the pipe as text; what comes out must be the same Decimal, exponent
    and sign included (1.50 is not 1.5 in a canonical column, -0 is not 0)."""
    rows = [position_values(amount) for amount in amounts]
    unpacked = unpack_batch(pack_batch({PositionRecord: rows}))[PositionRecord]
    assert [tuple(map(repr, row)) for row in unpacked] == [tuple(map(repr, row)) for row in rows]


def position_values(amount: Decimal | None) -> tuple[object, ...]:
    """A position row (as ``record_values`` reads it) with ``amount`` in its money columns."""
    record = position()
    values = dict(zip(RECORD_FIELDS[PositionRecord], record_values([record])[PositionRecord][0],
                      strict=True))
    for name in ("price_krw", "value_krw", "unrealized_pnl_krw"):
        values[name] = amount
    return tuple(values.values())
