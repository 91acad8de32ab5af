"""Every path that can send an order meets the pre-trade gate (issue: one gate in front
of every order): ``twap`` with the kill switch present or created mid-run, caps and the
balance checked up front, a TWAP inside a cycle, a model's absurd stop, and the daily
loss baseline of a live run after a dry run in the same database."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app
from bithumb_llm_trader.store import open_store

from ..engine.helpers import ACCESS_KEY, SECRET_KEY, START, buy, hold, rig, rows
from ..standin import BithumbStandIn

D = Decimal
pytestmark = pytest.mark.anyio


def write_config(path: Path, **sections: Any) -> Path:
    data: dict[str, Any] = {
        "name": "gated",
        "twap": {"duration": "6m", "slices": 6},
        "risk": {"max_trade_value": 10_000_000, "max_position_krw": 50_000_000,
                 "kill_switch_file": str(path / "KILL_SWITCH")},
        "paper": {"initial_balances": {"KRW": 10_000_000}},
        "database": {"url": f"sqlite:///{path / 'gated.db'}"},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    target = path / "strategy.json"
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def twap(config: Path, notional: str, standin: BithumbStandIn, clock: ManualClock,
         *extra: str) -> Any:
    return CliRunner().invoke(
        app, ["twap", str(config), "--side", "buy", "--notional", notional,
              "--no-log-file", *extra],
        obj={"transport": standin.transport(), "clock": clock})


def stand_in() -> tuple[BithumbStandIn, ManualClock]:
    clock = ManualClock(START)
    return BithumbStandIn(now=START, clock=clock.now), clock


def orders_in(path: Path) -> list[dict[str, Any]]:
    store = open_store(f"sqlite:///{path / 'gated.db'}")
    try:
        return rows(store, "orders")
    finally:
        store.close()


def test_twap_with_the_kill_switch_present_sends_nothing(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    (workdir / "KILL_SWITCH").touch()
    result = twap(config, "600000", standin, clock)
    assert result.exit_code == 2
    assert "kill_switch" in result.stderr and "nothing sent" in result.stderr
    assert orders_in(workdir) == []


def test_a_kill_switch_created_mid_twap_stops_it(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    switch = workdir / "KILL_SWITCH"
    real_sleep = clock.sleep

    async def sleep_then_switch(seconds: float) -> None:
        await real_sleep(seconds)
        if clock.now() >= START.replace(minute=2):  # after slices 1-3 (0, 1, 2 min)
            switch.touch()

    clock.sleep = sleep_then_switch  # type: ignore[method-assign]
    result = twap(config, "600000", standin, clock, "--json")
    out = json.loads(result.stdout)
    assert result.exit_code == 130, result.output  # stopped, resumable
    assert out["status"] == "stopped" and (out["error"] or "").startswith("kill_switch")
    assert out["slices_sent"] == 2 and len(orders_in(workdir)) == 2


@pytest.mark.parametrize(("notional", "reason"), [
    ("20000000", "max_trade_value"),  # 20 M against a 10 M cap
    ("9000000", "max_position_size"),  # within the trade cap, but the position cap is 5 M
])
def test_twap_over_the_caps_is_refused_up_front(workdir: Path, notional: str,
                                                reason: str) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, risk={"max_position_krw": 5_000_000})
    result = twap(config, notional, standin, clock)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and reason in lines[0]
    assert orders_in(workdir) == [] and standin.order_posts == 0


def test_twap_the_balance_cannot_pay_is_refused_up_front(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, risk={"max_trade_value": 100_000_000,
                                         "max_position_krw": 100_000_000})
    result = twap(config, "30000000", standin, clock)  # 30 M on a 10 M paper wallet
    assert result.exit_code == 2 and "insufficient_balance" in result.stderr
    assert orders_in(workdir) == []


def twap_cycle_rig(tmp_path: Path) -> Any:
    """A cycle whose buy (about 400,000 KRW) goes out as a TWAP of four slices."""
    return rig(tmp_path, [buy(risk_pct="0.05")],
               risk={"max_trade_value": 400_000, "max_risk_pct": "0.05",
                     "max_position_krw": 1_000_000},
               allocation={"max_single_order_pct": 0.5, "reserved_pool_pct": 0},
               twap={"threshold_krw": 100_000, "slices": 4, "duration": "4m"})


async def test_a_twap_inside_a_cycle_meets_the_kill_switch(tmp_path: Path) -> None:
    r = twap_cycle_rig(tmp_path)
    switch = Path(r.config.risk.kill_switch_file or "")
    real_sleep = r.clock.sleep

    async def sleep_then_switch(seconds: float) -> None:
        await real_sleep(seconds)
        await asyncio.to_thread(switch.touch)  # created while the TWAP waits for slice 2

    r.clock.sleep = sleep_then_switch  # type: ignore[method-assign]
    result = await r.engine.run_cycle()
    execution = result.execution or {}
    assert execution.get("twap_run_id"), result.to_dict()
    twap_row = rows(r.store, "twap_runs")[0]
    assert twap_row["status"] == "stopped" and twap_row["error"].startswith("kill_switch")
    assert len(rows(r.store, "orders")) == 1  # the first slice only


async def test_a_twap_inside_a_cycle_stops_on_ctrl_c(tmp_path: Path) -> None:
    from bithumb_llm_trader.bootstrap import trading_engine

    r = twap_cycle_rig(tmp_path)
    stop = asyncio.Event()
    engine = trading_engine(r.config, exchange=r.exchange, decider=r.decider, store=r.store,
                            clock=r.clock, mode=r.engine.mode, stop=stop)
    real_sleep = r.clock.sleep

    async def sleep_then_stop(seconds: float) -> None:
        stop.set()  # Ctrl-C while the TWAP waits for its second slice
        await real_sleep(seconds)

    r.clock.sleep = sleep_then_stop  # type: ignore[method-assign]
    await engine.run_cycle()
    assert rows(r.store, "twap_runs")[0]["status"] == "stopped"
    assert len(rows(r.store, "orders")) == 1


async def test_a_model_stop_of_1e_12_is_raised_to_the_floor(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(stop_loss_pct=D("1e-12"), take_profit_pct=D("1e-12"))])
    result = await r.engine.run_cycle()
    assert result.execution and result.execution["status"] == "filled"
    verdict = result.verdict or {}
    assert "stop_loss_floored" in verdict["reasons"]
    assert "take_profit_floored" in verdict["reasons"]
    guard = r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value)
    assert guard is not None and guard.entry_price is not None
    assert guard.stop_loss_price is not None and guard.take_profit_price is not None
    # At least the 0.5% floor away from the entry, both ways.
    assert guard.stop_loss_price <= guard.entry_price * D("0.995")
    assert guard.take_profit_price >= guard.entry_price * D("1.005")
    # The next cycle, at the same price, does not sell the position.
    r.clock.advance(900)
    r.decider.decisions = [hold()]
    again = await r.engine.run_cycle()
    protect = again.step("protect")
    assert protect is not None and protect.detail.get("trigger") is None


async def test_a_dry_run_does_not_set_the_live_daily_loss_baseline(tmp_path: Path) -> None:
    standin = BithumbStandIn(now=START, balances={"KRW": "2000000", "BTC": "0.5"})
    dry = rig(tmp_path, [hold()], standin=standin)
    standin._clock = dry.clock.now
    assert (await dry.engine.run_cycle()).ok  # paper wallet: 1,000,000 KRW
    live = rig(tmp_path, [hold()], live=True, standin=standin, store=dry.store,
               risk={"max_position_krw": 100_000_000})
    live.clock.set(dry.clock.now())
    first = await live.engine.run_cycle()  # 2,000,000 + 0.5 BTC at 100 M = 52,000,000
    assert first.trading_state == "active"
    standin.price = D(75_000_000)  # a 25% crash
    live.clock.advance(900)
    live.decider.decisions = [buy()]
    crashed = await live.engine.run_cycle()
    assert crashed.trading_state == "halted", crashed.to_dict()
    state = crashed.step("risk_state")
    assert state is not None and "daily_loss_limit" in state.detail["reasons"]
    assert standin.order_posts == 0  # nothing bought into the crash
    assert ACCESS_KEY and SECRET_KEY  # the live rig signs with the test keys
