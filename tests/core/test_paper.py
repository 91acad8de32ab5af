from decimal import Decimal

import pytest

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import OrderRequest, OrderState, OrderType, Side
from bithumb_llm_trader.errors import ExchangeRejected, OrderNotFound
from bithumb_llm_trader.paper import PaperExchange

from .books import KRW_BTC, T0, book
from .fakes import FixedAccount, MemoryPaperStore, StaticMarket

pytestmark = pytest.mark.anyio

D = Decimal
FEE = D("0.0025")


def paper(store: MemoryPaperStore | None = None, market: StaticMarket | None = None,
          krw: str = "1000000", **kw: object) -> PaperExchange:
    return PaperExchange(
        market or StaticMarket(), store or MemoryPaperStore(), strategy="s1",
        initial_balances={"KRW": D(krw)}, clock=ManualClock(T0), fee_rate=FEE,
        min_order_krw=D(5000), **kw,  # type: ignore[arg-type]
    )


def market_buy(notional: str, cid: str = "c1") -> OrderRequest:
    return OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.MARKET,
                        client_order_id=cid, notional=D(notional))


async def balances(exchange: PaperExchange) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.currency: (b.balance, b.locked) for b in await exchange.accounts()}


async def test_market_buy_walks_the_book_and_charges_fees() -> None:
    exchange = paper()
    order = await exchange.place_order(market_buy("200000"))
    assert order.state is OrderState.DONE
    assert [f.volume for f in order.fills] == [D("0.001"), D("0.00099990")]
    funds = D("100000") + D("0.00099990") * D("100010000")
    assert order.executed_funds == funds
    # fee per fill, truncated to 0.01 KRW: 250.00 + 249.99
    assert order.paid_fee == D("250.00") + D("249.99")
    wallet = await balances(exchange)
    assert wallet["KRW"] == (D(1_000_000) - funds - order.paid_fee, D(0))
    assert wallet["BTC"] == (D("0.00199990"), D(0))
    btc = next(b for b in await exchange.accounts() if b.currency == "BTC")
    assert btc.avg_buy_price == (funds / D("0.0019999")).quantize(D("0.00000001"))


async def test_thin_book_gives_a_partial_fill() -> None:
    thin = StaticMarket(book(asks=[("100000000", "0.001")], bids=[("99990000", "0.001")]))
    order = await paper(market=thin).place_order(market_buy("300000"))
    assert order.state is OrderState.CANCEL
    assert order.executed_volume == D("0.001")


async def test_market_sell_pays_fee_from_proceeds() -> None:
    exchange = paper()
    bought = await exchange.place_order(market_buy("100000"))
    sell = OrderRequest(market=KRW_BTC, side=Side.SELL, order_type=OrderType.MARKET,
                        client_order_id="c2", volume=bought.executed_volume)
    order = await exchange.place_order(sell)
    assert order.state is OrderState.DONE
    assert order.executed_funds == D("0.001") * D("99990000")
    wallet = await balances(exchange)
    assert "BTC" not in wallet
    expected = D(1_000_000) - D(100_000) - D("250") + D("99990") - D("249.97")
    assert wallet["KRW"] == (expected, D(0))


async def test_exchange_rules_are_enforced() -> None:
    exchange = paper(krw="10000")
    with pytest.raises(ExchangeRejected, match="minimum"):
        await exchange.place_order(market_buy("4000"))
    with pytest.raises(ExchangeRejected) as caught:
        await exchange.place_order(market_buy("9990", cid="c2"))
    assert caught.value.name == "insufficient_funds"
    await exchange.place_order(market_buy("9000", cid="c3"))
    with pytest.raises(ExchangeRejected, match="already used"):
        await exchange.place_order(market_buy("5000", cid="c3"))
    off_tick = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.LIMIT,
                            client_order_id="c4", price=D("99999500"), volume=D("0.0001"))
    with pytest.raises(ExchangeRejected, match="tick"):
        await exchange.place_order(off_tick)


async def test_limit_order_rests_then_fills_when_the_book_comes_to_it() -> None:
    market = StaticMarket()
    store = MemoryPaperStore()
    exchange = paper(store=store, market=market)
    limit = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.LIMIT,
                         client_order_id="l1", price=D("99000000"), volume=D("0.005"))
    order = await exchange.place_order(limit)
    assert order.state is OrderState.WAIT and order.executed_volume == 0
    locked = D("99000000") * D("0.005") * (1 + FEE)
    assert (await balances(exchange))["KRW"] == (D(1_000_000) - locked, locked)
    assert [o.order_id for o in await exchange.open_orders(KRW_BTC)] == [order.order_id]
    # The market falls through the limit: 0.003 available at or below 99,000,000.
    market.book = book(asks=[("98990000", "0.002"), ("99000000", "0.001"), ("99010000", "9")],
                       bids=[("98980000", "1")])
    partly = await exchange.get_order(client_order_id="l1")
    assert partly.state is OrderState.WAIT and partly.executed_volume == D("0.003")
    assert partly.fills[0].price == D("99000000")  # a resting order fills at its own price
    market.book = book(asks=[("98000000", "1")], bids=[("97990000", "1")])
    done = await exchange.get_order(order_id=order.order_id)
    assert done.state is OrderState.DONE and done.executed_volume == D("0.005")
    krw, krw_locked = (await balances(exchange))["KRW"]
    assert krw_locked == 0
    assert krw == D(1_000_000) - D("99000000") * D("0.005") - done.paid_fee
    # A new exchange over the same store sees the same wallet and orders (persisted).
    again = paper(store=store, market=market)
    assert (await again.get_order(client_order_id="l1")).state is OrderState.DONE
    assert (await balances(again))["BTC"] == (D("0.005"), D(0))


async def test_cancel_releases_locked_funds() -> None:
    exchange = paper()
    limit = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.LIMIT,
                         client_order_id="l1", price=D("90000000"), volume=D("0.001"))
    await exchange.place_order(limit)
    await exchange.cancel_order(client_order_id="l1")
    assert (await balances(exchange))["KRW"] == (D(1_000_000), D(0))
    assert (await exchange.get_order(client_order_id="l1")).state is OrderState.CANCEL


async def test_marketable_limit_fills_now_as_taker() -> None:
    exchange = paper()
    limit = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.LIMIT,
                         client_order_id="l1", price=D("100010000"), volume=D("0.002"))
    order = await exchange.place_order(limit)
    assert order.state is OrderState.DONE
    assert [f.price for f in order.fills] == [D("100000000"), D("100010000")]


async def test_unknown_orders_and_reset() -> None:
    store = MemoryPaperStore()
    exchange = paper(store=store)
    with pytest.raises(OrderNotFound):
        await exchange.get_order(client_order_id="nope")
    await exchange.place_order(market_buy("100000"))
    exchange.reset()
    assert await balances(exchange) == {"KRW": (D(1_000_000), D(0))}


async def test_account_fees_are_used_when_readable() -> None:
    exchange = paper(account_source=FixedAccount("0.0004"))
    order = await exchange.place_order(market_buy("100000"))
    assert order.paid_fee == D("40.00")
    chance = await exchange.order_chance(KRW_BTC)
    assert chance.bid_fee == D("0.0004")


async def test_memory_stays_bounded_but_old_orders_can_still_be_found() -> None:
    store = MemoryPaperStore()
    exchange = paper(store=store, krw="100000000")
    for n in range(40):
        await exchange.place_order(market_buy("10000", cid=f"c{n}"))
    assert len(exchange._orders) <= 16
    first = await exchange.get_order(client_order_id="c0")  # read back from the store
    assert first.state is OrderState.DONE and first.client_order_id == "c0"
    with pytest.raises(ExchangeRejected, match="already used"):
        await exchange.place_order(market_buy("10000", cid="c0"))
