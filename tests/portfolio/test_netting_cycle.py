"""Three strategies in one cycle: two opposite on KRW-BTC (netted), one on KRW-ETH."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..engine.helpers import buy, rows, sell
from .helpers import D, Member, PortfolioRig, rig, strategy

pytestmark = pytest.mark.anyio

BTC_MID = D("99999500")  # (best ask 100,000,000 + best bid 99,999,000) / 2


def three(tmp_path: Path, *, live: bool = False) -> PortfolioRig:
    """A buys BTC, B sells the 0.01 BTC its ledger holds, C buys ETH."""
    members = [
        Member(strategy(tmp_path, "a"), "0.4", [buy()]),
        Member(strategy(tmp_path, "b"), "0.4", [sell()]),
        Member(strategy(tmp_path, "c", "KRW-ETH"), "0.2", [buy()]),
    ]
    return rig(tmp_path, members, live=live, balances={"KRW": "4000000", "BTC": "0.01"},
               ledgers={"b": {"KRW": "1000000", "BTC": "0.01"}})


def by_strategy(table: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [row for row in table if row["strategy"] == name]


async def test_opposite_orders_are_netted_into_one(tmp_path: Path) -> None:
    r = three(tmp_path)
    result = await r.manager.run_cycle()
    assert result.ok, [s.error for s in result.strategies]
    assert [s.strategy for s in result.strategies] == ["a", "b", "c"]

    orders = rows(r.store, "orders")
    netted = {o["market"]: o for o in by_strategy(orders, "portfolio")}
    assert set(netted) == {"KRW-BTC", "KRW-ETH"}  # one order per market, not three
    # A wants 200,000 KRW = 0.00200001 BTC at the mid; B sells 0.01: the rest goes out.
    assert netted["KRW-BTC"]["side"] == "ask"
    assert D(netted["KRW-BTC"]["volume"]) == D("0.01") - D("0.00200001")
    assert D(netted["KRW-ETH"]["notional"]) == D(100000)
    intents = {o["strategy"]: o for o in orders if o["strategy"] != "portfolio"}
    assert {name: o["state"] for name, o in intents.items()} == {
        "a": "done", "b": "done", "c": "done"}
    assert intents["a"]["client_order_id"] != intents["b"]["client_order_id"]

    # A was filled inside at the mid, without fee; B got the cross plus the real fill.
    assert r.balance("a", "BTC") == D("0.00200001")
    assert r.balance("a", "KRW") == D(2000000) - D("0.00200001") * BTC_MID
    sold = netted["KRW-BTC"]
    expected_b = (D(1000000) + D("0.00200001") * BTC_MID
                  + D(sold["executed_funds"]) - D(sold["paid_fee"]))
    assert r.balance("b", "BTC") == 0
    assert r.balance("b", "KRW") == expected_b
    a_fills = by_strategy(rows(r.store, "fills"), "a")
    assert len(a_fills) == 1 and D(a_fills[0]["fee"]) == 0
    assert D(a_fills[0]["price"]) == BTC_MID
    b_fills = by_strategy(rows(r.store, "fills"), "b")
    assert sum(D(f["volume"]) for f in b_fills) == D("0.01")
    assert sum(D(f["fee"]) for f in b_fills) == D(sold["paid_fee"])


async def test_ledgers_add_up_to_the_account(tmp_path: Path) -> None:
    r = three(tmp_path)
    result = await r.manager.run_cycle()
    assert result.ok
    assert r.paper is not None
    account = {b.currency: b.total for b in await r.paper.accounts()}
    for currency, held in account.items():
        owned = sum((r.balance(name, currency) for name in ("a", "b", "c")), D(0))
        assert owned == held, currency
    assert result.unallocated_krw == 0
    assert result.equity_krw == result.account_equity_krw
    assert result.equity_krw == sum((s.equity_krw or D(0) for s in result.strategies), D(0))
    c = result.strategy("c")
    assert c is not None and [p.currency for p in c.positions] == ["ETH"]
    assert c.slice_krw == D(1000000)
    assert {p.currency for p in result.positions} == {"BTC", "ETH"}


async def test_market_data_is_read_once_per_cycle(tmp_path: Path) -> None:
    r = three(tmp_path)
    await r.manager.run_cycle()
    standin = r.standin
    for market in ("KRW-BTC", "KRW-ETH"):
        assert standin.requests_for("GET", "/v1/orderbook", market) == 1
        assert standin.requests_for("GET", "/v1/candles/minutes/15", market) == 1
    assert standin.count("GET", "/v1/ticker") == 1  # every price in one request
    assert standin.count("GET", "/v1/market/all") == 1
    r.clock.advance(900)
    await r.manager.run_cycle()  # a new cycle reads afresh
    assert standin.requests_for("GET", "/v1/orderbook", "KRW-BTC") == 2


async def test_the_netting_is_recorded_with_its_intents(tmp_path: Path) -> None:
    r = three(tmp_path)
    result = await r.manager.run_cycle()
    btc = next(n for n in result.netting if n.market == "KRW-BTC")
    assert btc.active_side == "sell" and btc.cross_volume == D("0.00200001")
    assert btc.cross_price == BTC_MID and btc.status == "filled"
    assert {s["strategy"] for s in btc.shares} == {"a", "b"}
    audit = [e for e in rows(r.store, "llm_executions") if e["strategy"] == "portfolio"]
    assert {e["method"] for e in audit} == {"netted"}
    btc_audit = next(e for e in audit if e["client_order_id"] == btc.client_order_id)
    assert "intents" in btc_audit["result_json"]
    intent_ids = {o["client_order_id"] for o in rows(r.store, "orders")
                  if o["strategy"] in ("a", "b")}
    for client_order_id in intent_ids:
        assert client_order_id in btc_audit["result_json"]
    run = by_strategy(rows(r.store, "cron_runs"), "portfolio")
    assert len(run) == 1 and run[0]["status"] == "ok"
    assert D(run[0]["total_equity_krw"]) == D(5000000)


async def test_live_sends_one_order_per_market_to_the_exchange(tmp_path: Path) -> None:
    r = three(tmp_path, live=True)
    result = await r.manager.run_cycle()
    assert result.ok, [s.error for s in result.strategies]
    assert r.standin.order_posts == 2
    # Opening and closing valuation, and the pre-trade gate's balance check per order.
    assert r.standin.count("GET", "/v1/accounts") == 2 + r.standin.order_posts
    assert r.balance("a", "BTC") == D("0.00200001")
    held = r.standin.balances
    for currency in ("KRW", "BTC", "ETH"):
        owned = sum((r.balance(name, currency) for name in ("a", "b", "c")), D(0))
        assert owned == held.get(currency, D(0)), currency
