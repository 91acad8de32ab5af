"""One trading cycle end to end on the stand-in exchange and a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, event

from bithumb_llm_trader.records import PositionGuardRecord
from bithumb_llm_trader.store import SqlStore

from .helpers import D, buy, hold, rig, rows, sell

pytestmark = pytest.mark.anyio

STEPS = ["reconcile", "snapshot", "risk_state", "protect", "prompt", "decide", "risk",
         "allocate", "execute"]


async def test_dry_buy_cycle_records_every_step(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()])
    result = await r.engine.run_cycle()
    assert result.ok, result.error
    assert [s.name for s in result.steps] == STEPS
    assert all(s.status == "ok" for s in result.steps)
    # equity 1,000,000; reserve 20%; risk 1% / stop 2% = 500,000 wanted;
    # capped by max_single_order 10% = 100,000.
    assert result.equity_krw == D(1_000_000)
    assert result.reserved_pool_krw == D(200_000)
    assert result.allocation is not None
    assert result.allocation["final_notional"] == "100000"
    assert "max_single_order" in result.allocation["caps_hit"]
    assert result.execution is not None and result.execution["status"] == "filled"
    assert r.standin.order_posts == 0  # dry: the exchange never saw an order

    run = rows(r.store, "cron_runs")
    assert len(run) == 1 and run[0]["status"] == "ok"
    assert D(run[0]["total_equity_krw"]) == D(1_000_000)
    assert D(run[0]["reserved_pool_krw"]) == D(200_000)
    assert run[0]["trading_state"] == "active"
    assert {p["currency"] for p in rows(r.store, "cron_positions")} == {"KRW"}
    features = rows(r.store, "cron_features")
    assert len(features) == 1 and D(features[0]["last_price"]) == D(100_000_000)
    assert len(rows(r.store, "llm_decision_requests")) == 1
    signals = rows(r.store, "llm_signals")
    assert signals[0]["action"] == "buy" and signals[0]["agent_intent"] == "enter_long"
    proposal = rows(r.store, "allocation_proposals")[0]
    assert D(proposal["final_notional"]) == D(100_000)
    verdict = rows(r.store, "risk_verdicts")[0]
    assert verdict["approved"] and D(verdict["stop_loss_price"]) == D(98_000_000)
    execution = rows(r.store, "llm_executions")[0]
    assert execution["status"] == "filled" and execution["agent_intent"] == "enter_long"
    assert '"events"' in execution["result_json"]
    order = rows(r.store, "orders")[0]
    assert order["state"] == "done" and order["dry_run"]
    assert order["client_order_id"].startswith("btr-c-")
    fills = rows(r.store, "fills")
    assert sum(D(f["funds"]) for f in fills) <= D(100_000)
    guard = r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value)
    assert guard is not None and guard.stop_loss_price is not None
    assert guard.stop_loss_price < D(100_000_000) < (guard.take_profit_price or 0)
    assert r.engine.history[-1] is result


async def test_hold_ends_the_cycle_without_an_order(tmp_path: Path) -> None:
    r = rig(tmp_path, [hold()])
    result = await r.engine.run_cycle()
    assert result.ok
    statuses = {s.name: s.status for s in result.steps}
    assert statuses["allocate"] == "skipped" and statuses["execute"] == "skipped"
    assert rows(r.store, "orders") == []
    assert rows(r.store, "llm_executions")[0]["status"] == "hold"


async def test_low_confidence_is_rejected_with_a_reason(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(confidence="0.3")])
    result = await r.engine.run_cycle()
    assert result.ok and result.verdict is not None
    assert result.verdict["reasons"] == ["confidence_below_min"]
    verdict = rows(r.store, "risk_verdicts")[0]
    assert not verdict["approved"] and "confidence_below_min" in verdict["reasons_json"]
    assert rows(r.store, "llm_executions")[0]["status"] == "rejected"
    assert rows(r.store, "orders") == []


async def test_kill_switch_halts_new_orders_without_asking_the_model(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()])
    (tmp_path / "KILL_SWITCH").touch()
    result = await r.engine.run_cycle()
    assert result.ok, result.error
    assert result.trading_state == "halted"
    assert r.decider.calls == []  # the counting decider: never called, no tokens spent
    steps = {s.name: s for s in result.steps}
    assert steps["protect"].detail["stopped"] == "kill_switch"
    for name in ("prompt", "decide", "risk", "allocate", "execute"):
        assert steps[name].status == "skipped" and steps[name].detail == {"reason": "kill_switch"}
    assert rows(r.store, "llm_decision_requests") == [] and rows(r.store, "llm_signals") == []
    execution = rows(r.store, "llm_executions")
    assert len(execution) == 1 and execution[0]["status"] == "halted"
    assert "kill_switch" in execution[0]["result_json"]
    assert result.execution is not None and result.execution["status"] == "halted"
    assert rows(r.store, "orders") == []
    (tmp_path / "KILL_SWITCH").unlink()  # removed: the model is asked again
    r.clock.advance(900)
    await r.engine.run_cycle()
    assert len(r.decider.calls) == 1


async def test_the_result_names_cash_and_position_before_and_after(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(), sell()])
    first = await r.engine.run_cycle()
    assert first.execution is not None and first.execution["status"] == "filled"
    assert first.cash_krw_before == first.cash_krw == D(1_000_000)
    assert first.position_size_before == D(0)
    assert first.position_size_after is not None and first.position_size_after > 0
    assert first.cash_krw_after is not None and first.cash_krw_after < D(1_000_000) - D(99_000)
    r.clock.advance(900)
    second = await r.engine.run_cycle()  # its snapshot reads the account after the buy
    assert second.cash_krw == first.cash_krw_after
    assert second.position_size == first.position_size_after
    assert second.execution is not None and second.execution["status"] == "filled"
    assert second.position_size_after == D(0)
    out = second.to_dict()
    assert out["cash_krw"] == out["cash_krw_before"] == str(first.cash_krw_after)
    assert out["cash_krw_after"] == str(second.cash_krw_after)
    assert D(out["position_size_after"]) == 0


async def test_stop_loss_exits_before_asking_the_model(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(), hold()])
    first = await r.engine.run_cycle()
    assert first.execution and first.execution["status"] == "filled"
    asked = len(r.decider.calls)
    r.standin.price = D(97_000_000)  # below the 98,000,000 stop
    r.clock.advance(900)
    second = await r.engine.run_cycle()
    assert second.ok, second.error
    assert len(r.decider.calls) == asked  # the model was not consulted
    assert second.decision is not None and second.decision["trigger"] == "stop_loss"
    assert second.execution is not None and second.execution["status"] == "filled"
    assert second.execution["action"] == "sell"
    assert r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value) is None
    verdicts = rows(r.store, "risk_verdicts")
    assert "stop_loss_triggered" in verdicts[-1]["reasons_json"]


async def test_take_profit_and_sell_decisions(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(), hold()])
    await r.engine.run_cycle()
    r.standin.price = D(105_000_000)
    r.clock.advance(900)
    result = await r.engine.run_cycle()
    assert result.decision is not None and result.decision["trigger"] == "take_profit"
    balances = {b.currency for b in await r.exchange.accounts()}
    assert "BTC" not in balances
    # An LLM sell with no position is refused.
    r.decider.decisions[1:] = [sell()]
    r.clock.advance(900)
    refused = await r.engine.run_cycle()
    assert refused.verdict is not None and refused.verdict["reasons"] == ["no_position"]


async def test_a_failing_step_marks_the_run_failed(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()])

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("orderbook feed down")

    r.exchange.orderbook = broken
    result = await r.engine.run_cycle()
    assert result.status == "failed"
    assert result.error is not None and "snapshot" in result.error
    assert "orderbook feed down" in result.error
    run = rows(r.store, "cron_runs")[0]
    assert run["status"] == "failed" and "orderbook feed down" in run["error"]
    assert rows(r.store, "cron_features") == []  # the snapshot step wrote nothing
    assert rows(r.store, "llm_signals") == []
    assert [s.status for s in result.steps] == ["ok", "failed"]


async def test_daily_loss_limit_halts(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(confidence="0.9", risk_pct="0.01"), buy(), buy()],
            risk={"daily_loss_limit_pct": 0.0001, "max_trade_value": 200000})
    await r.engine.run_cycle()
    r.standin.price = D(99_000_000)  # a small loss, still above the stop
    r.clock.advance(900)
    second = await r.engine.run_cycle()
    assert second.trading_state == "halted"
    assert second.verdict is not None and "daily_loss_limit" in second.verdict["reasons"]


async def test_cooldown_blocks_the_next_trade(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(), buy()], risk={"cooldown": "30m"})
    await r.engine.run_cycle()
    r.clock.advance(600)
    second = await r.engine.run_cycle()
    assert second.verdict is not None and "cooldown" in second.verdict["reasons"]
    r.clock.advance(1800)
    third = await r.engine.run_cycle()
    assert third.execution is not None and third.execution["status"] == "filled"


async def test_history_is_bounded(tmp_path: Path) -> None:
    r = rig(tmp_path, [hold()])
    r.engine.history = type(r.engine.history)(maxlen=2)
    for _ in range(3):
        await r.engine.run_cycle()
        r.clock.advance(60)
    assert len(r.engine.history) == 2


async def test_guard_of_a_flat_position_is_cleared(tmp_path: Path) -> None:
    r = rig(tmp_path, [hold()])
    r.store.save_guard(PositionGuardRecord(
        strategy="e2e", market="KRW-BTC", mode="dry", stop_loss_price=D(1), take_profit_price=D(2),
        entry_price=D(1), run_id="x", updated_at=r.clock.now()))
    await r.engine.run_cycle()
    # A flat position clears it.
    assert r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value) is None


async def test_a_large_trade_goes_out_as_a_twap(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()], twap={"threshold_krw": 50000, "duration": "2m", "slices": 2})
    result = await r.engine.run_cycle()
    assert result.ok, result.error
    assert result.allocation is not None and result.allocation["use_twap"] is True
    execution = result.execution
    assert execution is not None and execution["method"] == "twap"
    assert execution["status"] == "filled"
    twap = rows(r.store, "twap_runs")
    assert len(twap) == 1 and twap[0]["run_id"] == result.run_id
    assert twap[0]["status"] == "done" and D(twap[0]["filled_funds"]) > 0
    slices = rows(r.store, "twap_slices")
    assert [s["slice_no"] for s in slices] == [1, 2]
    orders = rows(r.store, "orders")
    assert {o["twap_run_id"] for o in orders} == {twap[0]["twap_run_id"]}
    assert sum(D(o["executed_funds"]) for o in orders) == D(execution["filled_funds"])
    assert D(execution["filled_funds"]) <= D(100_000)
    assert r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value) is not None
    assert r.clock.now() > result.started_at  # the slices waited on the clock


def count_writing_transactions(store: SqlStore) -> list[int]:
    """A list that grows by one for each transaction that changes rows (SQLite's
    ``total_changes`` moved between its begin and its commit)."""
    written: list[int] = []
    changes: dict[int, int] = {}

    def total(conn: Connection) -> int:
        return int(conn.connection.driver_connection.total_changes)  # type: ignore[union-attr]

    def begin(conn: Connection) -> None:
        changes[id(conn)] = total(conn)

    def commit(conn: Connection) -> None:
        if total(conn) != changes.pop(id(conn)):
            written.append(1)

    event.listen(store.engine, "begin", begin)
    event.listen(store.engine, "commit", commit)
    return written


@pytest.mark.parametrize("live", [False, True])
async def test_a_cycle_commits_once_or_twice_when_it_sends_an_order(
        tmp_path: Path, live: bool) -> None:
    r = rig(tmp_path, [hold(), buy(), hold()], live=live)
    await r.engine.run_cycle()  # the first one also creates the paper wallet
    written = count_writing_transactions(r.store)
    result = await r.engine.run_cycle()
    assert result.ok and result.execution is not None
    assert result.execution["status"] == "filled"
    assert len(written) == 2  # the pending order with all before it; the rest at the end
    written.clear()
    result = await r.engine.run_cycle()
    assert result.ok and result.execution is not None
    assert result.execution["status"] == "hold"
    assert len(written) == 1
    assert [run["status"] for run in rows(r.store, "cron_runs")] == ["ok"] * 3
    assert len(rows(r.store, "llm_executions")) == 3
