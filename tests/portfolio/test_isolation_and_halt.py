"""One strategy's failure stays its own; a portfolio HALT stops new risk for all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bithumb_llm_trader.decision import DecisionOutcome
from bithumb_llm_trader.errors import NetworkError
from bithumb_llm_trader.market import MarketSnapshot
from bithumb_llm_trader.prompts import Prompt
from bithumb_llm_trader.records import RunRecord

from ..engine.helpers import buy, rows, sell
from .helpers import START, D, Member, PortfolioRig, rig, strategy

pytestmark = pytest.mark.anyio


@dataclass
class ExplodingDecider:
    name: str = "boom"
    needs_prompt: bool = True

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        raise RuntimeError("model exploded")


def trio(tmp_path: Path, a: Member, **options: object) -> PortfolioRig:
    members = [a,
               Member(strategy(tmp_path, "b"), "0.4", [sell()]),
               Member(strategy(tmp_path, "c", "KRW-ETH"), "0.2", [buy()])]
    return rig(tmp_path, members, balances={"KRW": "4000000", "BTC": "0.01"},
               ledgers={"b": {"KRW": "1000000", "BTC": "0.01"}}, **options)  # type: ignore[arg-type]


async def test_a_failing_model_fails_only_its_strategy(tmp_path: Path) -> None:
    r = trio(tmp_path, Member(strategy(tmp_path, "a"), "0.4", decider=ExplodingDecider()))
    result = await r.manager.run_cycle()
    assert result.status == "partial"
    a, b, c = result.strategies
    assert a.status == "failed" and a.error is not None and "model exploded" in a.error
    assert b.ok and c.ok
    assert r.balance("b", "BTC") == 0 and r.balance("c", "ETH") > 0
    netted = [o for o in rows(r.store, "orders") if o["strategy"] == "portfolio"]
    assert {o["market"] for o in netted} == {"KRW-BTC", "KRW-ETH"}
    assert r.balance("a", "KRW") == D(2000000)  # untouched


async def test_a_refused_order_is_recorded_and_the_others_trade(tmp_path: Path) -> None:
    limit = buy(order_type="limit", limit_price=D(99_990_000))
    r = trio(tmp_path, Member(strategy(tmp_path, "a"), "0.4", [limit]))
    result = await r.manager.run_cycle()
    a = result.strategy("a")
    assert a is not None and a.ok and a.cycle is not None and a.cycle.execution is not None
    assert a.cycle.execution["status"] == "rejected"
    assert "market orders only" in a.cycle.execution["result_json"]["error"]
    assert r.balance("b", "BTC") == 0 and r.balance("c", "ETH") > 0


async def test_the_portfolio_kill_switch_halts_everyone(tmp_path: Path) -> None:
    r = trio(tmp_path, Member(strategy(tmp_path, "a"), "0.4", [buy()]))
    (tmp_path / "PORTFOLIO_KILL").touch()
    result = await r.manager.run_cycle()
    assert result.halted and result.halt_reasons == ("kill_switch",)
    for item in result.strategies:
        assert item.cycle is not None and item.cycle.trading_state == "halted"
    assert rows(r.store, "orders") == []
    assert r.balance("b", "BTC") == D("0.01")  # not even the sell


async def test_the_portfolio_daily_loss_stops_new_risk_only(tmp_path: Path) -> None:
    r = trio(tmp_path, Member(strategy(tmp_path, "a"), "0.4", [buy()]))
    r.store.write([RunRecord(run_id="earlier", strategy="portfolio", market="*", mode="dry",
                             started_at=START - timedelta(hours=1),
                             total_equity_krw=D(10_000_000))])
    result = await r.manager.run_cycle()
    assert result.halted and result.halt_reasons == ("daily_loss_limit",)
    a, b, c = result.strategies
    assert b.cycle is not None and b.cycle.execution is not None
    assert b.cycle.execution["status"] == "filled"
    for refused in (a, c):
        assert refused.cycle is not None and refused.cycle.execution is not None
        assert refused.cycle.execution["status"] == "rejected"
        assert "portfolio halted" in refused.cycle.execution["result_json"]["error"]
    assert r.balance("b", "BTC") == 0  # selling reduces risk: allowed
    assert [o["market"] for o in rows(r.store, "orders") if o["strategy"] == "portfolio"] == [
        "KRW-BTC"]


async def test_a_strategy_sizes_within_its_slice(tmp_path: Path) -> None:
    members = [Member(strategy(tmp_path, "a"), "0.5", [buy()]),
               Member(strategy(tmp_path, "b"), "0.2", [buy()])]
    # B's coins (2,000,000 KRW) already exceed its slice (0.2 x 6,000,000): no cash for it.
    r = rig(tmp_path, members, balances={"KRW": "4000000", "BTC": "0.02"},
            ledgers={"b": {"KRW": "1000000", "BTC": "0.02"}})
    result = await r.manager.run_cycle()
    a, b = result.strategies
    assert a.slice_krw == D(3000000) and b.slice_krw == D(1200000)
    assert a.cycle is not None and a.cycle.equity_krw == D(3000000)
    assert a.cycle.allocation is not None and a.cycle.allocation["final_notional"] == "300000"
    # B sees its own ledger (its equity is its own) but its cash beyond the slice is
    # committed: nothing left to size a buy with.
    assert b.cycle is not None and b.cycle.cash_krw == D(1000000)
    assert b.cycle.equity_krw == D(3000000)
    assert b.cycle.allocation is not None and b.cycle.allocation["caps"]["free_cash"] == "0"
    assert b.cycle.execution is not None and b.cycle.execution["status"] == "no_order"
    assert [o["strategy"] for o in rows(r.store, "orders")] == ["a", "portfolio"]


async def test_gross_exposure_scales_buys_down(tmp_path: Path) -> None:
    members = [Member(strategy(tmp_path, "a"), "0.5", [buy()]),
               Member(strategy(tmp_path, "c", "KRW-ETH"), "0.5", [buy()])]
    r = rig(tmp_path, members, max_gross_exposure=D("0.05"))  # 200,000 of 4,000,000
    result = await r.manager.run_cycle()
    netted = {o["market"]: D(o["notional"]) for o in rows(r.store, "orders")
              if o["strategy"] == "portfolio"}
    assert netted == {"KRW-BTC": D(100000), "KRW-ETH": D(100000)}  # 200,000 each, halved
    for item in result.strategies:
        assert item.cycle is not None and item.cycle.execution is not None
        assert item.cycle.execution["status"] == "partial"


async def test_a_cycle_that_cannot_start_fails_whole_and_the_next_recovers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = rig(tmp_path, [Member(strategy(tmp_path, "a"), "0.5", [buy()])])
    assert r.paper is not None
    real_accounts = r.paper.accounts

    async def unreachable() -> list[object]:
        raise NetworkError("account unreachable")

    monkeypatch.setattr(r.paper, "accounts", unreachable)
    failed = await r.manager.run_cycle()
    assert failed.status == "failed" and failed.error is not None
    assert "account unreachable" in failed.error
    assert [s.status for s in failed.strategies] == ["skipped"]
    monkeypatch.setattr(r.paper, "accounts", real_accounts)
    r.clock.advance(900)
    recovered = await r.manager.run_cycle()
    assert recovered.ok and r.balance("a", "BTC") > 0
    assert r.balance("a", "KRW") < D(2000000)  # seeded with its slice after all
    runs = [row for row in rows(r.store, "cron_runs") if row["strategy"] == "portfolio"]
    assert sorted(row["status"] for row in runs) == ["failed", "ok"]


async def test_a_live_portfolio_never_starts_from_a_dry_runs_ledgers(tmp_path: Path) -> None:
    # The usual path: a dry run first, then live, in the same database. The dry ledgers
    # hold paper money; the live ledgers are seeded from the live account alone.
    dry = rig(tmp_path, [Member(strategy(tmp_path, "a"), "1", [buy()])],
              balances={"KRW": "4000000"})
    await dry.manager.run_cycle()
    assert dry.balance("a", "BTC") > 0
    live = rig(tmp_path, [Member(strategy(tmp_path, "a"), "1", [sell()])], live=True,
               balances={"KRW": "2000000"})
    await live.manager.run_cycle()
    assert live.balance("a", "BTC") == 0  # nothing bought live; the paper coin is not here
    assert live.balance("a", "KRW") <= D(2_000_000)
    assert dry.balance("a", "BTC") > 0  # the dry ledger is left as it was


async def test_one_bad_ticker_print_values_nothing_and_trades_nothing(tmp_path: Path) -> None:
    """The account's prices size every slice: a print ten times the book must stop the
    cycle before it starts, not make every strategy think it is six times richer."""
    members = [Member(strategy(tmp_path, "a"), "0.5", [buy(), buy()]),
               Member(strategy(tmp_path, "c", "KRW-ETH"), "0.5", [buy(), buy()])]
    r = rig(tmp_path, members, balances={"KRW": "4000000", "ETH": "1"})
    r.standin.other_markets["KRW-ETH"] = D(50_000_000)  # the ticker's; the book stays at 5M
    failed = await r.manager.run_cycle()
    assert failed.status == "failed" and failed.error is not None
    assert "MarketDataRejected" in failed.error and "from the book mid" in failed.error
    assert [s.status for s in failed.strategies] == ["skipped", "skipped"]
    assert rows(r.store, "orders") == []
    r.standin.other_markets["KRW-ETH"] = D(5_000_000)  # a sane print again
    r.clock.advance(900)
    recovered = await r.manager.run_cycle()
    assert recovered.ok and r.balance("a", "BTC") > 0
