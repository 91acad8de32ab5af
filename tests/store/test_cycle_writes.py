"""``SqlStore.cycle_writes``: a cycle's writes held and committed together, on every
backend; an order committed before it can be sent; reads that see what is held."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import event

from bithumb_llm_trader import records as r
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.store import SqlStore

from . import samples as sm
from .samples import at


def guard(stop: str = "140000000") -> r.PositionGuardRecord:
    return r.PositionGuardRecord(
        strategy="alpha", market="KRW-BTC", mode="dry", stop_loss_price=Decimal(stop),
        take_profit_price=None, entry_price=None, run_id="run-1", updated_at=at(0))


def test_writes_wait_for_the_end_of_the_block_and_go_in_one_transaction(
        store: SqlStore) -> None:
    begun: list[object] = []
    event.listen(store.engine, "begin", begun.append)
    with store.cycle_writes():
        store.write([sm.run()])
        store.write([sm.position(), sm.feature()])
        store.update_run("run-1", r.RunUpdate(total_equity_krw=Decimal("1000000")))
        store.write([sm.request(), sm.signal()])
        store.update_run("run-1", r.RunUpdate(status="ok", finished_at=at(9)))
        assert begun == []
    assert len(begun) == 1
    assert sm.read_all(store, r.RunRecord) == [sm.run(
        total_equity_krw=Decimal("1000000"), status="ok", finished_at=at(9))]
    assert len(sm.read_all(store, r.FeatureRecord)) == 1
    assert len(sm.read_all(store, r.SignalRecord)) == 1


def test_an_order_is_committed_at_once_with_what_came_before_it(store: SqlStore) -> None:
    with store.cycle_writes():
        store.write([sm.run(), sm.position()])
        store.save_order(sm.order())
        # On disk before the send that follows: a crash now still leaves both.
        assert [o.state for o in sm.read_all(store, r.OrderRecord)] == ["pending"]
        assert len(sm.read_all(store, r.RunRecord)) == 1
        store.save_fills_and_order(sm.order(state="done"), [sm.fill("t1")])
        store.update_run("run-1", r.RunUpdate(status="ok"))
        assert sm.read_all(store, r.FillRecord) == []
    assert [o.state for o in sm.read_all(store, r.OrderRecord)] == ["done"]
    assert len(sm.read_all(store, r.FillRecord)) == 1
    assert [run.status for run in sm.read_all(store, r.RunRecord)] == ["ok"]


def test_reads_see_what_the_block_holds(store: SqlStore) -> None:
    with store.cycle_writes():
        store.write([sm.run(started=5)])
        assert store.first_equity_since("alpha", at(0), "dry") is None
        store.update_run("run-1", r.RunUpdate(total_equity_krw=Decimal("123.5")))
        assert store.first_equity_since("alpha", at(0), "dry") == Decimal("123.5")
        assert store.first_equity_since("alpha", at(0), "live") is None
        assert store.first_equity_since("alpha", at(6), "dry") is None
        store.save_guard(guard())
        assert store.load_guard("alpha", "KRW-BTC", "dry") == guard()
        store.clear_guard("alpha", "KRW-BTC", "dry")
        assert store.load_guard("alpha", "KRW-BTC", "dry") is None
        store.save_guard(guard("130000000"))
        store.cache_put("k", "model", "v")
        assert store.cache_get("k") == "v"
        assert sm.read_all(store, r.PositionGuardRecord) == []
        store.save_order(sm.order())
        store.save_fills_and_order(sm.order(state="done"), [sm.fill("t1", created=7)])
        assert store.last_trade_at("alpha", "dry") == at(7)  # commits the fill first
        assert store.unsettled_orders("alpha", "dry") == []
    assert store.load_guard("alpha", "KRW-BTC", "dry") == guard("130000000")
    assert store.cache_get("k") == "v"


def test_a_failing_block_still_commits_what_it_held(store: SqlStore) -> None:
    with pytest.raises(KeyboardInterrupt), store.cycle_writes():
        store.write([sm.run()])
        store.update_run("run-1", r.RunUpdate(status="failed", error="interrupted"))
        raise KeyboardInterrupt
    assert [(run.status, run.error) for run in sm.read_all(store, r.RunRecord)] == [
        ("failed", "interrupted")]


def test_a_bad_row_is_refused_when_written_not_at_the_end(store: SqlStore) -> None:
    with store.cycle_writes():
        store.write([sm.run()])
        with pytest.raises(StoreError, match="market"):
            store.write([sm.run("run-2", market="X" * 500)])
    assert [run.run_id for run in sm.read_all(store, r.RunRecord)] == ["run-1"]


def test_a_nested_block_joins_the_outer_one(store: SqlStore) -> None:
    with store.cycle_writes():
        store.write([sm.run()])
        with store.cycle_writes():
            store.write([sm.position()])
        assert sm.read_all(store, r.PositionRecord) == []
    assert len(sm.read_all(store, r.PositionRecord)) == 1


def test_tasks_hold_their_own_writes_and_one_that_outlives_the_block_writes_through(
        store: SqlStore) -> None:
    async def cycle(run_id: str, later: asyncio.Event) -> asyncio.Task[None]:
        async def straggler() -> None:
            await later.wait()
            store.write([sm.position(run_id)])  # the block has ended: written at once

        with store.cycle_writes():
            store.write([sm.run(run_id)])
            task = asyncio.create_task(straggler())
            await asyncio.sleep(0)
            assert sm.read_all(store, r.RunRecord) == []  # neither cycle committed yet
            await asyncio.sleep(0)
        return task

    async def main() -> None:
        later = asyncio.Event()
        tasks = await asyncio.gather(cycle("run-1", later), cycle("run-2", later))
        assert sorted(run.run_id for run in sm.read_all(store, r.RunRecord)) == [
            "run-1", "run-2"]
        later.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert sorted(p.run_id for p in sm.read_all(store, r.PositionRecord)) == ["run-1", "run-2"]
