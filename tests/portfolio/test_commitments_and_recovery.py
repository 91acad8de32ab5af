"""Running TWAPs commit capital; a netted order of unknown fate is settled later."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bithumb_llm_trader.domain import Market, OrderRequest, OrderType, Side
from bithumb_llm_trader.multi_agent import (
    Intent,
    NettingBook,
    committed_for,
    plan_netting,
    twap_remainders,
)
from bithumb_llm_trader.records import OrderRecord, TwapRunRecord, TwapSliceRecord

from ..engine.helpers import buy, hold, rows
from ..gates import gated_executor
from .helpers import START, D, Member, rig, strategy

pytestmark = pytest.mark.anyio

BTC = Market("KRW", "BTC")


def twap(run_id: str, owner: str, *, side: str = "bid", status: str = "running",
         dry_run: bool = True, total: str | None = "2000000", filled: str = "500000",
         volume: str | None = None, price: str | None = None) -> TwapRunRecord:
    return TwapRunRecord(
        twap_run_id=run_id, strategy=owner, market="KRW-BTC", side=side, status=status,
        dry_run=dry_run, mode="dry" if dry_run else "live", created_at=START,
        updated_at=START, duration_s=600, slice_count=4,
        total_notional=None if total is None else D(total),
        total_volume=None if volume is None else D(volume),
        arrival_price=None if price is None else D(price), filled_funds=D(filled),
    )


def planned(run_id: str, number: int, status: str, notional: str) -> TwapSliceRecord:
    return TwapSliceRecord(twap_run_id=run_id, slice_no=number, status=status,
                           planned_at=START + timedelta(minutes=number),
                           client_order_id=f"{run_id}-{number}", planned_notional=D(notional))


def test_only_the_unsent_part_of_active_buy_twaps_counts() -> None:
    runs = [
        twap("z1", "outsider"),                                     # 1,500,000 unfilled
        twap("a1", "a"),                                            # slices below
        twap("done", "outsider", status="done"),                    # over
        twap("sell", "outsider", side="ask"),                       # sells spend no KRW
        twap("live", "outsider", dry_run=False),                    # another account
        twap("vol", "b", total=None, filled="0", volume="0.01", price="100000000"),
    ]
    slices = {"a1": [planned("a1", 1, "filled", "100000"), planned("a1", 2, "planned", "100000"),
                     planned("a1", 3, "planned", "100000"), planned("a1", 4, "sent", "100000")]}
    remainders = twap_remainders(runs, lambda run_id: slices.get(run_id, []), dry_run=True)
    assert remainders == {"outsider": D(1500000), "a": D(200000), "b": D(1000000)}
    assert committed_for("a", remainders) == D(2500000)  # not its own TWAP
    assert committed_for("c", remainders) == D(2700000)


async def test_running_twaps_shrink_the_other_strategies_buys(tmp_path: Path) -> None:
    runs = [twap("z1", "outsider"), twap("a1", "a", total="300000", filled="0")]
    members = [Member(strategy(tmp_path, "a"), "0.5", [buy()]),
               Member(strategy(tmp_path, "b"), "0.5", [buy()])]
    r = rig(tmp_path, members, twap_runs=runs)
    for run in runs:
        r.store.save_twap_run(run)
    result = await r.manager.run_cycle()
    a, b = result.strategies
    assert a.committed_krw == D(1500000) and b.committed_krw == D(1800000)
    # A: 2,000,000 cash - 400,000 reserve - 1,500,000 committed, less room for the fee.
    assert a.cycle is not None and a.cycle.allocation is not None
    assert a.cycle.allocation["final_notional"] == "99750"
    assert "free_cash" in a.cycle.allocation["caps_hit"]
    # B: nothing left once the TWAPs of A and the outsider are counted.
    assert b.cycle is not None and b.cycle.execution is not None
    assert b.cycle.execution["status"] == "no_order"
    netted = [o for o in rows(r.store, "orders") if o["strategy"] == "portfolio"]
    assert [D(o["notional"]) for o in netted] == [D(99750)]


async def test_an_unknown_netted_order_is_settled_next_cycle(tmp_path: Path) -> None:
    members = [Member(strategy(tmp_path, "a"), "1", [buy(), hold()])]
    r = rig(tmp_path, members, live=True)
    r.standin.post_faults = ["timeout_after"]  # accepted, but the answer is lost
    r.standin.get_order_faults = 1000  # and the order cannot be looked up
    first = await r.manager.run_cycle()
    a = first.strategy("a")
    assert a is not None and a.status == "failed"
    assert a.error is not None and "OrderStateUnknown" in a.error
    assert first.netting[0].status == "unsettled"
    assert r.standin.order_posts == 1
    orders = {o["strategy"]: o for o in rows(r.store, "orders")}
    assert orders["portfolio"]["state"] == "unknown" and orders["a"]["state"] == "unknown"
    assert r.balance("a", "BTC") == 0  # nothing booked while the fate is unknown

    r.standin.get_order_faults = 0
    r.clock.advance(900)
    second = await r.manager.run_cycle()
    assert second.ok, [s.error for s in second.strategies]
    (earlier,) = second.settled_earlier
    assert earlier.status == "filled" and earlier.shares[0]["strategy"] == "a"
    orders = {o["strategy"]: o for o in rows(r.store, "orders")}
    assert orders["portfolio"]["state"] == "done" and orders["a"]["state"] == "done"
    assert r.balance("a", "BTC") == D(orders["portfolio"]["executed_volume"]) > 0
    assert r.standin.order_posts == 1  # settled by looking it up, never sent twice
    assert r.balance("a", "BTC") == r.standin.balances["BTC"]


async def test_a_restart_finishes_what_a_crash_left(tmp_path: Path) -> None:
    """The plan is saved before its order is sent, so a new process can settle it."""
    r = rig(tmp_path, [Member(strategy(tmp_path, "a"), "1", [hold()])])
    await r.manager.run_cycle()  # the ledger exists; nothing traded
    assert r.paper is not None
    # A crash mid-settlement: the intent recorded, the plan saved, the order sent, and
    # then nothing booked.
    intent = Intent(strategy="a", client_order_id="bt-crashed-1", market=BTC, side=Side.BUY,
                    amount=D(100000), requested=D(100000))
    plan = plan_netting("pf-crash", BTC, [intent], price=D(99999500), min_order_krw=D(5000))
    r.store.save_order(OrderRecord(
        client_order_id="bt-crashed-1", run_id="gone", strategy="a", market="KRW-BTC",
        side="bid", order_type="market", state="pending", dry_run=True, mode="dry",
        created_at=START,
        updated_at=START, notional=D(100000)))
    NettingBook(r.store, "portfolio", r.clock).save(plan, "open")
    executor = gated_executor(r.paper, data=r.paper, account=r.paper, store=r.store,
                              clock=r.clock, owner="portfolio")
    await executor.execute(OrderRequest(market=BTC, side=Side.BUY, order_type=OrderType.MARKET,
                                        client_order_id="pf-crash", notional=D(100000)),
                           run_id="gone")

    again = rig(tmp_path, [Member(strategy(tmp_path, "a"), "1", [hold()])])
    result = await again.manager.run_cycle()
    (settled,) = result.settled_earlier
    assert settled.netting_id == "pf-crash" and settled.status == "filled"
    orders = {o["client_order_id"]: o for o in rows(again.store, "orders")}
    assert orders["bt-crashed-1"]["state"] == "done"  # the engine's reconcile saw it
    assert again.balance("a", "BTC") == D(orders["pf-crash"]["executed_volume"]) > 0
    assert result.ok and result.unallocated_krw == 0
    third = await again.manager.run_cycle()
    assert third.settled_earlier == ()  # booked once, never twice
