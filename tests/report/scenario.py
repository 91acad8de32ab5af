"""The database every report test reads: two strategies traded through REAL dry cycles.

``alpha`` (mode dry), one cycle every 15 minutes from 01:00 UTC:

====  =====  ==============================================================
A1    01:00  LLM buy 0.8 -> 100,000 KRW filled at 100,000,000 (0.001 BTC, fee 250)
A2    01:15  LLM HOLD (chosen; the answer needed the response-format fallback)
A3    01:30  LLM answer invalid -> HOLD ``invalid_output``
A4    01:45  rule decider HOLD ``warmup``
A5    02:00  LLM buy 0.3 (a cached answer) -> rejected ``confidence_below_min``
A6    02:15  the order book feed is down -> failed run, no equity
A7    02:30  LLM buy 0.8; the book thins while the model thinks -> partial fill
A8    02:45  LLM sell 0.9; the price jumps to 102,000,000 meanwhile -> filled higher
TWAP  02:50  buy 2 x 50,000 KRW (slice 2 after the price rose to 100,200,000)
A9    03:00  LLM HOLD at 101,000,000 (the last snapshot price of alpha)
====  =====  ==============================================================

``beta`` (mode backtest): B1 03:15 rules buy 0.7 filled at 100,000,000; B2 03:30 LLM
timed out (HOLD ``timeout``) at 99,000,000; B3 03:45 rules buy 0.7 at 99,500,000.

The twap/ package is not written yet, so the TWAP is executed the way its brief says
``TWAPExecutor`` will: each slice is a real market order through ``OrderExecutor`` on
the paper exchange (orders and fills tables, with twap_run_id and slice_no), and the
parent and slices are saved with ``save_twap_run`` / ``save_twap_slice``; an
``ExecutionRecord`` with method ``twap`` stands for the engine's row of a TWAP decision,
with a snapshot price of 99,950,000.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.decision import TradeDecision
from bithumb_llm_trader.domain import Market, OrderRequest, OrderType, Side, average_price
from bithumb_llm_trader.records import ExecutionRecord, TwapRunRecord, TwapSliceRecord
from bithumb_llm_trader.store import SqlStore

from ..gates import gated_executor
from .helpers import (
    START,
    Step,
    Trader,
    buy_decision,
    invalid_output,
    llm,
    rules,
    sell_decision,
    trader,
)
from .helpers import D as D

TWAP_ID = "tw-alpha-0001"
MARKET = Market("KRW", "BTC")


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


@dataclass
class Scenario:
    alpha: Trader
    beta: Trader
    run_ids: dict[str, str] = field(default_factory=dict)


def build(store: SqlStore, tmp_path: Path) -> Scenario:
    """Trade the scenario into ``store`` (synchronously, for module-scoped fixtures)."""
    return asyncio.run(_build(store, tmp_path))


async def _build(store: SqlStore, tmp_path: Path) -> Scenario:
    clock = ManualClock(START)
    alpha = trader(tmp_path, store, clock, "alpha")
    beta = trader(tmp_path, store, clock, "beta", mode="backtest")
    scenario = Scenario(alpha, beta)
    await _alpha(alpha, clock)
    await _twap(alpha, store, clock)
    clock.set(at(120))
    alpha.standin.price = D(101_000_000)
    await alpha.cycle(llm(TradeDecision.hold("nothing to do")))  # A9
    await _beta(beta, clock)
    for name, t in (("A", alpha), ("B", beta)):
        for number, result in enumerate(t.runs, start=1):
            scenario.run_ids[f"{name}{number}"] = result.run_id
    return scenario


async def _alpha(alpha: Trader, clock: ManualClock) -> None:
    hold = TradeDecision.hold("nothing to do")
    await alpha.cycle(llm(buy_decision()))  # A1
    clock.set(at(15))
    await alpha.cycle(llm(hold, fallback=True))  # A2
    clock.set(at(30))
    await alpha.cycle(invalid_output())  # A3
    clock.set(at(45))
    await alpha.cycle(rules(TradeDecision.hold("warming up"), hold_reason="warmup"))  # A4
    clock.set(at(60))
    await alpha.cycle(llm(buy_decision("0.3"), tokens=(0, 0), cost="0", latency_ms=5,
                          cached=True))  # A5
    clock.set(at(75))
    await alpha.failed_cycle()  # A6
    clock.set(at(90))

    def thin_book() -> None:
        alpha.standin.levels = 2
        alpha.standin.level_size = D("0.0002")

    await alpha.cycle(Step(llm(buy_decision()), thin_book))  # A7
    alpha.standin.levels, alpha.standin.level_size = 30, D("0.05")
    clock.set(at(105))

    def price_jumps() -> None:
        alpha.standin.price = D(102_000_000)

    await alpha.cycle(Step(llm(sell_decision()), price_jumps))  # A8


async def _twap(alpha: Trader, store: SqlStore, clock: ManualClock) -> None:
    """Two 50,000 KRW slices, recorded as the TWAP executor will record them."""
    alpha.standin.price = D(100_000_000)
    clock.set(at(110))
    started = clock.now()
    executor = gated_executor(alpha.exchange, data=alpha.exchange, account=alpha.exchange,
                              store=store, clock=clock, owner="alpha")
    slices = []
    for number in (1, 2):
        if number == 2:
            clock.advance(60)
            alpha.standin.price = D(100_200_000)
        request = OrderRequest(market=MARKET, side=Side.BUY, order_type=OrderType.MARKET,
                               client_order_id=f"{TWAP_ID}-{number}", notional=D(50_000))
        report = await executor.execute(request, run_id=TWAP_ID, twap_run_id=TWAP_ID,
                                        slice_no=number)
        assert report.status == "filled"
        slices.append(TwapSliceRecord(
            twap_run_id=TWAP_ID, slice_no=number, planned_at=clock.now(), status="filled",
            client_order_id=request.client_order_id, planned_notional=D(50_000),
            sent_at=clock.now(), filled_volume=report.filled_volume,
            filled_funds=report.filled_funds,
            avg_price=average_price(report.filled_funds, report.filled_volume), fee=report.fee))
    volume = sum((s.filled_volume for s in slices), D(0))
    funds = sum((s.filled_funds for s in slices), D(0))
    fees = sum((s.fee for s in slices), D(0))
    avg = average_price(funds, volume)
    store.save_twap_run(TwapRunRecord(
        twap_run_id=TWAP_ID, strategy="alpha", market="KRW-BTC", side="bid", status="done",
        dry_run=True, mode="dry", created_at=started, updated_at=clock.now(), duration_s=120,
        slice_count=2, total_notional=D(100_000), arrival_price=D(100_000_000),
        filled_volume=volume, filled_funds=funds, avg_price=avg, slippage_bps=D("9.99"),
        fees=fees))
    for twap_slice in slices:
        store.save_twap_slice(twap_slice)
    store.write([ExecutionRecord(
        execution_id="ex-twap-1", run_id=TWAP_ID, strategy="alpha", created_at=started,
        agent_intent="enter_long", action="buy", side="bid", method="twap", status="filled",
        dry_run=True, mode="dry", twap_run_id=TWAP_ID, requested_notional=D(100_000),
        filled_volume=volume, filled_funds=funds, avg_price=avg, fee=fees,
        reference_price=D(99_950_000), arrival_price=D(100_000_000), slippage_bps=D("9.99"))])


async def _beta(beta: Trader, clock: ManualClock) -> None:
    clock.set(at(135))
    await beta.cycle(rules(buy_decision("0.7")))  # B1
    clock.set(at(150))
    beta.standin.price = D(99_000_000)
    await beta.cycle(llm(TradeDecision.hold("timeout: no answer"), hold_reason="timeout",
                         tokens=(0, 0), cost=None, latency_ms=30_000))  # B2
    clock.set(at(165))
    beta.standin.price = D(99_500_000)
    await beta.cycle(rules(buy_decision("0.7")))  # B3
