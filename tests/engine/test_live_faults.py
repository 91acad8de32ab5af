"""Live orders against the stand-in exchange when the network misbehaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from bithumb_llm_trader.bootstrap import trading_engine
from bithumb_llm_trader.domain import Mode

from .helpers import buy, hold, rig, rows

pytestmark = pytest.mark.anyio


async def test_post_timeout_after_acceptance_gives_exactly_one_order(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()], live=True)
    r.standin.post_faults = ["timeout_after"]
    result = await r.engine.run_cycle()
    assert result.ok, result.error
    assert r.standin.order_posts == 1
    assert len(r.standin.orders) == 1
    assert result.execution is not None and result.execution["status"] == "filled"
    order = rows(r.store, "orders")[0]
    assert order["order_id"] == next(iter(r.standin.orders))
    assert order["state"] == "done" and not order["dry_run"]
    events = [e["event"] for e in result.execution["result_json"]["events"]]
    assert events[:3] == ["recorded", "send_failed", "lookup"]


async def test_500_on_post_does_not_duplicate(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()], live=True)
    r.standin.post_faults = ["500"]
    result = await r.engine.run_cycle()
    assert result.ok, result.error
    assert r.standin.order_posts == 2  # looked up, confirmed absent, sent once more
    assert len(r.standin.orders) == 1
    assert result.execution is not None and result.execution["status"] == "filled"


async def test_crash_between_send_and_record_is_reconciled(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()], live=True)
    real_place = r.client.place_order

    async def place_then_die(request):  # type: ignore[no-untyped-def]
        await real_place(request)
        raise KeyboardInterrupt  # the process dies with the answer in hand

    r.engine.steps._orders.gate.place_order = place_then_die  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        await r.engine.run_cycle()
    assert len(r.standin.orders) == 1
    order = rows(r.store, "orders")[0]
    assert order["state"] == "pending"
    run = rows(r.store, "cron_runs")[0]
    assert run["status"] == "failed" and "interrupted" in run["error"]

    # The next run (a fresh engine, as after a restart) finds and settles it first.
    fresh = trading_engine(r.config, exchange=r.client, decider=type(r.decider)([hold()]),
                           store=r.store, clock=r.clock, mode=Mode.LIVE)
    r.clock.advance(60)
    result = await fresh.run_cycle()
    assert result.ok
    reconcile = result.step("reconcile")
    assert reconcile is not None and reconcile.detail["settled"] == [order["client_order_id"]]
    settled = rows(r.store, "orders")[0]
    assert settled["state"] == "done" and settled["order_id"] is not None
    assert len(rows(r.store, "fills")) == 1
    assert r.standin.order_posts == 1
    guard = r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value)
    assert guard is None or guard.stop_loss_price is not None


async def test_unreachable_lookup_halts_trading_until_reconciled(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(), buy()], live=True)
    r.standin.post_faults = ["timeout_after"]
    real_get = r.client.get_order
    failures = {"left": 20}

    async def flaky_get(**kwargs):  # type: ignore[no-untyped-def]
        if failures["left"] > 0:
            failures["left"] -= 1
            from bithumb_llm_trader.errors import NetworkError

            raise NetworkError("lookup timed out")
        return await real_get(**kwargs)

    r.engine.steps._orders.gate.get_order = flaky_get  # type: ignore[attr-defined]
    first = await r.engine.run_cycle()
    assert first.status == "failed" and "OrderStateUnknown" in (first.error or "")
    assert rows(r.store, "orders")[0]["state"] == "unknown"
    r.clock.advance(900)
    second = await r.engine.run_cycle()  # lookups still failing: no new order
    assert second.trading_state == "halted"
    assert second.verdict is not None and "unsettled_orders" in second.verdict["reasons"]
    assert r.standin.order_posts == 1
    failures["left"] = 0
    r.clock.advance(900)
    third = await r.engine.run_cycle()
    reconcile = third.step("reconcile")
    assert reconcile is not None and len(reconcile.detail["settled"]) == 1
