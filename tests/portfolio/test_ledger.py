"""A strategy's ledger and the exchange its engine sees inside a portfolio."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import (
    Market,
    Order,
    OrderChance,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from bithumb_llm_trader.errors import ExchangeRejected, InvalidOrder, OrderNotFound
from bithumb_llm_trader.multi_agent import (
    ExternalFill,
    Intent,
    Ledger,
    LedgerExchange,
    SharedMarketData,
    active_shares,
    ledger_key,
    plan_netting,
)
from bithumb_llm_trader.multi_agent.ledger import intent_order
from bithumb_llm_trader.store import open_store

from .helpers import START

pytestmark = pytest.mark.anyio

D = Decimal
BTC = Market("KRW", "BTC")


@dataclass
class StubRouter:
    halted: str | None = None
    pending: dict[str, Intent] = field(default_factory=dict)
    submitted: list[Intent] = field(default_factory=list)

    def refusal(self, side: Side) -> str | None:
        return self.halted

    def in_flight(self, client_order_id: str) -> Intent | None:
        return self.pending.get(client_order_id)

    async def submit(self, intent: Intent) -> Order:
        self.submitted.append(intent)
        return intent_order(intent, OrderState.DONE, START)


class Fees:
    async def order_chance(self, market: Market) -> OrderChance:
        fee = D("0.0025")
        return OrderChance(market=market, bid_fee=fee, ask_fee=fee, maker_bid_fee=fee,
                           maker_ask_fee=fee, min_total=D(5000))

    async def accounts(self) -> list[object]:
        return []


def setup(tmp_path: Path) -> tuple[Ledger, LedgerExchange, StubRouter]:
    clock = ManualClock(START)
    store = open_store(f"sqlite:///{tmp_path / 'l.db'}")
    ledger = Ledger(store, ledger_key("p", "a"), clock)
    ledger.seed({"KRW": D(100000), "BTC": D("0.001")})
    router = StubRouter()
    exchange = LedgerExchange("a", ledger, SharedMarketData(None), Fees(),  # type: ignore[arg-type]
                              router)
    return ledger, exchange, router


def market_buy(notional: str, cid: str = "bt-1") -> OrderRequest:
    return OrderRequest(market=BTC, side=Side.BUY, order_type=OrderType.MARKET,
                        client_order_id=cid, notional=D(notional))


async def test_orders_are_checked_before_they_reach_the_desk(tmp_path: Path) -> None:
    _, exchange, router = setup(tmp_path)
    with pytest.raises(ExchangeRejected, match="insufficient KRW"):
        await exchange.place_order(market_buy("100000"))  # no room for the fee
    with pytest.raises(ExchangeRejected, match="under the minimum"):
        await exchange.place_order(market_buy("4000"))
    with pytest.raises(ExchangeRejected, match="insufficient BTC"):
        await exchange.place_order(OrderRequest(market=BTC, side=Side.SELL,
                                                order_type=OrderType.MARKET,
                                                client_order_id="bt-2", volume=D("0.002")))
    with pytest.raises(InvalidOrder, match="market orders only"):
        await exchange.place_order(OrderRequest(market=BTC, side=Side.BUY,
                                                order_type=OrderType.LIMIT, client_order_id="bt-3",
                                                price=D(99_000_000), volume=D("0.0001")))
    router.halted = "portfolio halted: kill_switch"
    with pytest.raises(InvalidOrder, match="kill_switch"):
        await exchange.place_order(market_buy("50000"))
    assert router.submitted == []
    router.halted = None
    order = await exchange.place_order(market_buy("50000"))
    assert order.client_order_id == "bt-1" and router.submitted[0].amount == D(50000)


async def test_a_booked_share_moves_the_wallet_once(tmp_path: Path) -> None:
    ledger, exchange, _ = setup(tmp_path)
    intent = Intent(strategy="a", client_order_id="bt-9", market=BTC, side=Side.BUY,
                    amount=D(50000), requested=D(50000))
    plan = plan_netting("pf-9", BTC, [intent], price=D(100_000_000), min_order_krw=D(5000))
    (share,) = active_shares(plan, ExternalFill(D("0.0005"), D(50000), D(125), True))
    order = ledger.apply(share, plan)
    again = ledger.apply(share, plan)  # a resumed settlement finds it booked
    assert again == order and order.state is OrderState.DONE
    balances = {b.currency: b.balance for b in ledger.balances()}
    assert balances == {"KRW": D(100000) - D(50125), "BTC": D("0.0015")}
    assert await exchange.get_order(client_order_id="bt-9") == order
    assert await exchange.get_order(order_id="ledger-bt-9") == order
    reloaded = Ledger(open_store(f"sqlite:///{tmp_path / 'l.db'}"), ledger.key, ManualClock(START))
    assert reloaded.load() and reloaded.find(client_order_id="bt-9") == order


async def test_an_intent_in_flight_reads_as_unknown(tmp_path: Path) -> None:
    _, exchange, router = setup(tmp_path)
    with pytest.raises(OrderNotFound):
        await exchange.get_order(client_order_id="bt-lost")
    router.pending["bt-lost"] = Intent(strategy="a", client_order_id="bt-lost", market=BTC,
                                       side=Side.SELL, amount=D("0.001"), requested=D("0.001"))
    order = await exchange.get_order(client_order_id="bt-lost")
    assert order.state is OrderState.UNKNOWN and order.executed_volume == 0
    assert await exchange.open_orders(BTC) == []
    with pytest.raises(ExchangeRejected, match="already used"):
        await exchange.place_order(OrderRequest(market=BTC, side=Side.SELL,
                                                order_type=OrderType.MARKET,
                                                client_order_id="bt-lost", volume=D("0.001")))


def test_ledger_keys_fit_the_store() -> None:
    assert ledger_key("fund", "alpha") == "fund/alpha"
    long = ledger_key("portfolio-with-a-long-name", "s" * 64)
    assert len(long) <= 64 and long.startswith("portfolio-with-a-long-name/#")
    assert long != ledger_key("portfolio-with-a-long-name", "t" * 64)
