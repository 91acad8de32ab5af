"""TWAPExecutor on a fake clock, the paper exchange and the real SQL store."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.domain import Side
from bithumb_llm_trader.errors import InvalidOrder
from bithumb_llm_trader.twap import TwapProgress

from .helpers import KRW_BTC, MINUTE, START, book, deep_book, params, rig, rows

pytestmark = pytest.mark.anyio
D = Decimal


async def test_ten_slices_over_ten_minutes_post_at_their_times(tmp_path: Path) -> None:
    r = rig(tmp_path)
    report = await r.executor.run(params())
    assert [when for _, when in r.gateway.posts] == [START + i * MINUTE for i in range(10)]
    assert r.clock.sleeps == [60.0] * 9
    assert report.status == "done" and report.slices_sent == 10
    assert report.filled_funds == D(1_000_000) and report.remaining == 0
    assert report.filled_volume == D("0.01")
    assert report.avg_price == report.arrival_price == D(100_000_000)
    assert report.slippage_bps == 0
    assert report.fees == D(2500)
    slices = r.store.load_twap_slices(report.twap_run_id)
    assert sum(s.planned_notional or 0 for s in slices) == D(1_000_000)
    assert [s.status for s in slices] == ["filled"] * 10
    stem = report.twap_run_id[:20]
    assert [s.client_order_id for s in slices] == [f"btr-s-{stem}-{n}" for n in range(1, 11)]
    orders = rows(r.store, "orders")
    assert sorted(o["slice_no"] for o in orders) == list(range(1, 11))
    assert {o["twap_run_id"] for o in orders} == {report.twap_run_id}
    assert {o["state"] for o in orders} == {"done"}
    assert len(rows(r.store, "fills")) == 10
    run = r.store.load_twap_run(report.twap_run_id)
    assert run is not None and run.status == "done"
    assert run.filled_funds == D(1_000_000) and run.fees == D(2500)
    assert run.arrival_price == D(100_000_000) and run.slippage_bps == 0


async def test_uneven_total_sums_exactly_and_the_last_slice_takes_the_rest(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    report = await r.executor.run(params(notional=D(1_000_003), slices=4,
                                         duration=timedelta(minutes=4)))
    slices = r.store.load_twap_slices(report.twap_run_id)
    assert [s.planned_notional for s in slices] == [D(250_000)] * 3 + [D(250_003)]
    # 250,003 KRW buys 0.00250003 BTC at 100,000,000: exact to the last won.
    assert report.filled_funds == D(1_000_003) and report.remaining == 0


async def test_thin_book_shrinks_one_slice_and_skips_another(tmp_path: Path) -> None:
    thin = book([("100000000", "0.0005"), ("100500000", "1")])
    r = rig(tmp_path, thin)  # arrival 100,000,000: the guard is 30 bps above, 100,300,000
    r.market.at(START + MINUTE, book([("100400000", "1")]))  # nothing inside the guard
    r.market.at(START + 2 * MINUTE, deep_book())
    report = await r.executor.run(params(notional=D(400_000), slices=4,
                                         duration=timedelta(minutes=4)))
    slices = r.store.load_twap_slices(report.twap_run_id)
    assert [s.status for s in slices] == ["filled", "skipped", "filled", "filled"]
    assert slices[0].filled_funds == D(50_000) and "shrunk" in (slices[0].note or "")
    assert "beyond the guard 100300000" in (slices[1].note or "")
    assert slices[1].sent_at is None
    # Slice 3 carries what slices 1 and 2 left: 300,000 planned so far - 50,000 filled.
    assert slices[2].filled_funds == D(250_000)
    assert report.filled_funds == D(400_000) and report.remaining == 0
    assert report.guard_price == D(100_300_000)
    assert all(D(f["price"]) <= D(100_300_000) for f in rows(r.store, "fills"))
    assert r.gateway.posted_slices() == [1, 3, 4]
    assert report.slices_skipped == 1
    assert [e["event"] for e in report.events].count("slice_skipped") == 1


async def test_limit_price_stops_buying_above_it(tmp_path: Path) -> None:
    r = rig(tmp_path)
    # Inside the 30 bps guard, but above the user's limit of 100,100,000.
    r.market.at(START + 2 * MINUTE, deep_book("100200000", "100190000"))
    report = await r.executor.run(params(limit_price=D(100_100_000), final_sweep=True))
    assert report.guard_price == D(100_100_000)
    assert r.gateway.posted_slices() == [1, 2]
    assert report.filled_funds == D(200_000)
    assert report.remaining == D(800_000)  # reported, not chased
    assert report.status == "incomplete"  # honest: 20% of the total filled
    assert all(D(f["price"]) <= D(100_100_000) for f in rows(r.store, "fills"))
    statuses = [s.status for s in report.slices]
    assert statuses == ["filled", "filled"] + ["skipped"] * 9  # the guarded sweep too
    assert report.slices[-1].slice_no == 11


async def test_final_sweep_sends_the_remainder_once_the_book_refills(tmp_path: Path) -> None:
    r = rig(tmp_path, book([("100000000", "0.0005"), ("101000000", "5")]))
    r.market.at(START + 4 * MINUTE, deep_book())
    report = await r.executor.run(params(notional=D(500_000), slices=5,
                                         duration=timedelta(minutes=5), final_sweep=True))
    # Slices 1-4 get 50,000 each from the thin touch; slice 5 carries 300,000 and fills.
    assert report.remaining == 0 and report.filled_funds == D(500_000)
    assert r.gateway.posted_slices() == [1, 2, 3, 4, 5]  # nothing left: no sweep
    # The same, but the book refills only after the last slice: the sweep takes the rest.
    r2 = rig(tmp_path / "b", book([("100000000", "0.0005"), ("101000000", "5")]))
    r2.market.at(START + 5 * MINUTE, deep_book())
    report = await r2.executor.run(params(notional=D(500_000), slices=5,
                                          duration=timedelta(minutes=5), final_sweep=True))
    assert r2.gateway.posted_slices() == [1, 2, 3, 4, 5, 6]
    assert report.slices[-1].slice_no == 6 and report.slices[-1].filled_funds == D(250_000)
    assert report.remaining == 0
    assert "final_sweep" in [e["event"] for e in report.events]


@pytest.mark.parametrize("fault", ["crash_before", "crash_after"])
async def test_crash_after_slice_4_then_resume_sends_only_the_rest(
    tmp_path: Path, fault: str,
) -> None:
    r = rig(tmp_path)
    r.gateway.faults[5] = fault
    with pytest.raises(BaseException, match="crash"):
        await r.executor.run(params())
    run_ids = {row["twap_run_id"] for row in rows(r.store, "twap_runs")}
    (twap_run_id,) = run_ids
    assert r.store.load_twap_run(twap_run_id).status == "running"  # type: ignore[union-attr]
    before = r.gateway.posted_slices()
    assert before == ([1, 2, 3, 4] if fault == "crash_before" else [1, 2, 3, 4, 5])

    r.clock.advance(3600)  # the operator comes back an hour later
    restarted = r.fresh_process()
    report = await restarted.executor.resume(twap_run_id)
    after = restarted.gateway.posted_slices()
    assert after == ([5, 6, 7, 8, 9, 10] if fault == "crash_before" else [6, 7, 8, 9, 10])
    assert sorted(before + after) == list(range(1, 11))  # every slice exactly once
    assert report.status == "done" and report.filled_funds == D(1_000_000)
    assert report.remaining == 0 and report.slices_sent == 10
    # The rest keeps its one-minute spacing from the moment of the resume.
    resumed_at = START + timedelta(minutes=4, hours=1)
    times = [when for _, when in restarted.gateway.posts]
    assert times[-1] - times[0] == MINUTE * (len(times) - 1)
    assert times[0] >= resumed_at
    assert len(rows(r.store, "fills")) == 10
    if fault == "crash_after":
        assert "slice_reconciled" in [e["event"] for e in report.events]


async def test_timeout_after_acceptance_is_looked_up_not_resent(tmp_path: Path) -> None:
    r = rig(tmp_path)
    r.gateway.faults[3] = "timeout_after"
    report = await r.executor.run(params())
    assert r.gateway.posted_slices() == list(range(1, 11))  # slice 3 POSTed once
    assert report.filled_funds == D(1_000_000) and report.status == "done"
    assert len(rows(r.store, "fills")) == 10
    third = next(e for e in report.events if e.get("slice") == 3)
    assert [e["event"] for e in third["order_events"]][:2] == ["send_failed", "lookup"]
    assert (await r.paper.accounts())[0].balance == D("1.01")  # BTC bought once per slice


async def test_unknown_order_state_fails_the_run_and_resume_reconciles(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    r.gateway.faults[2] = "timeout_after"
    r.gateway.lookup_faults = ["timeout"] * 3
    report = await r.executor.run(params(slices=3, notional=D(300_000),
                                         duration=timedelta(minutes=3)))
    assert report.status == "failed" and "OrderStateUnknown" in (report.error or "")
    assert [s.status for s in report.slices] == ["filled", "sent", "planned"]
    restarted = r.fresh_process()
    resumed = await restarted.executor.resume(report.twap_run_id)
    assert resumed.status == "done" and resumed.filled_funds == D(300_000)
    assert r.gateway.posted_slices() == [1, 2]
    assert restarted.gateway.posted_slices() == [3]  # slice 2 was found, not resent
    assert len(rows(r.store, "fills")) == 3


async def test_stop_ends_after_the_current_slice_and_resume_finishes(tmp_path: Path) -> None:
    r = rig(tmp_path)
    stop = asyncio.Event()
    seen: list[TwapProgress] = []

    def on_progress(progress: TwapProgress) -> None:
        seen.append(progress)
        if progress.slices_done == 3:
            stop.set()

    report = await r.executor.run(params(), progress=on_progress, stop=stop)
    assert report.status == "stopped" and report.slices_sent == 3
    assert report.remaining == D(700_000)
    assert r.store.load_twap_run(report.twap_run_id).status == "stopped"  # type: ignore[union-attr]
    assert seen[-1].filled == D(300_000) and seen[-1].total == D(1_000_000)
    assert seen[-1].seconds_left == 420.0  # slice 10 is due at 9:00, now is 2:00
    resumed = await r.fresh_process().executor.resume(report.twap_run_id)
    assert resumed.status == "done" and resumed.filled_funds == D(1_000_000)
    with pytest.raises(InvalidOrder, match="done"):
        await r.fresh_process().executor.resume(report.twap_run_id)


async def test_resting_remainder_is_cancelled_before_the_run_ends(tmp_path: Path) -> None:
    # The gate (before the TWAP and before the order) and the TWAP (at arrival and for
    # the slice) read a deep book; by the time the order arrives the touch has thinned,
    # and afterwards nothing is left inside the guard.
    r = rig(tmp_path, book([("100500000", "1")]))
    r.market.overrides = [deep_book()] * 4 + [
                          book([("100000000", "0.0004"), ("100500000", "1")])]
    report = await r.executor.run(params(notional=D(100_000), slices=1,
                                         duration=timedelta(minutes=1)))
    only = report.slices[0]
    assert only.status == "partial" and only.filled_volume == D("0.0004")
    assert r.gateway.cancels == [f"paper-{only.client_order_id}"]
    assert await r.paper.open_orders(KRW_BTC) == []
    assert report.remaining == D(60_000)
    assert {o["state"] for o in rows(r.store, "orders")} == {"cancel"}


@pytest.mark.parametrize(("side", "amount"), [
    (Side.SELL, {"volume": D("0.05")}),
    (Side.BUY, {"volume": D("0.00300001")}),
    (Side.SELL, {"notional": D(300_000)}),
])
async def test_both_sides_in_both_units(tmp_path: Path, side: Side,
                                        amount: dict[str, Decimal]) -> None:
    r = rig(tmp_path)
    report = await r.executor.run(params(side=side, slices=3, duration=timedelta(minutes=3),
                                         **amount))
    unit_total = next(iter(amount.values()))
    assert report.status == "done" and report.slices_sent == 3
    if "volume" in amount:
        assert report.filled_volume == unit_total and report.remaining == 0
    else:  # coins come in 8-decimal steps: what is left is worth less than one step
        assert unit_total - report.filled_funds == report.remaining
        assert 0 <= report.remaining < D("0.00000001") * D(99_990_000) * 3
    arrival = D(100_000_000) if side is Side.BUY else D(99_990_000)
    assert report.arrival_price == arrival and report.slippage_bps == 0


async def test_bad_requests_are_refused_before_anything_is_recorded(tmp_path: Path) -> None:
    r = rig(tmp_path)
    with pytest.raises(InvalidOrder, match="below the minimum"):
        await r.executor.run(params(notional=D(4000)))
    with pytest.raises(InvalidOrder, match="not two-sided"):
        r.market.at(START, book([], [("99990000", "1")]))
        await r.executor.run(params())
    with pytest.raises(InvalidOrder, match="no TWAP run"):
        await r.executor.resume("nope")
    assert rows(r.store, "twap_runs") == []


async def test_a_slice_marked_sent_without_an_order_record_is_sent_on_resume(
    tmp_path: Path,
) -> None:
    r = rig(tmp_path)
    stop = asyncio.Event()
    report = await r.executor.run(
        params(slices=3, notional=D(300_000), duration=timedelta(minutes=3)),
        progress=lambda p: stop.set() if p.slices_done == 1 else None, stop=stop)
    assert report.status == "stopped"
    second = report.slices[1]
    # The process died between marking slice 2 sent and recording its order.
    r.store.save_twap_slice(replace(second, status="sent", sent_at=r.clock.now()))
    restarted = r.fresh_process()
    resumed = await restarted.executor.resume(report.twap_run_id)
    assert restarted.gateway.posted_slices() == [2, 3]
    assert resumed.status == "done" and resumed.filled_funds == D(300_000)
