"""In-memory fakes of the ports for core tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from bithumb_llm_trader.domain import (
    Balance,
    Candle,
    CandleInterval,
    Market,
    Orderbook,
    OrderChance,
    Ticker,
)
from bithumb_llm_trader.records import PaperBalanceRecord, PaperOrderRecord

from .books import T0, btc_book


class MemoryPaperStore:
    """The three paper-state methods of the Store port, in memory, with a save count."""

    def __init__(self) -> None:
        self.balances: dict[str, list[PaperBalanceRecord]] = {}
        self.orders: dict[tuple[str, str], PaperOrderRecord] = {}
        self.saves = 0

    def load_paper_state(
        self, strategy: str
    ) -> tuple[list[PaperBalanceRecord], list[PaperOrderRecord]]:
        orders = [o for (s, _), o in self.orders.items() if s == strategy]
        return list(self.balances.get(strategy, [])), orders

    def save_paper_state(
        self, strategy: str, balances: Sequence[PaperBalanceRecord],
        orders: Sequence[PaperOrderRecord],
    ) -> None:
        self.saves += 1
        self.balances[strategy] = list(balances)
        for order in orders:
            self.orders[(strategy, order.order_id)] = order

    def reset_paper_state(self, strategy: str) -> None:
        self.balances.pop(strategy, None)
        for key in [k for k in self.orders if k[0] == strategy]:
            del self.orders[key]


class StaticMarket:
    """Market data that returns whatever book and price the test sets."""

    def __init__(self, book: Orderbook | None = None, price: str = "100000000") -> None:
        self.book = book or btc_book()
        self.price = Decimal(price)
        self.calls: list[str] = []

    async def markets(self) -> list[Market]:
        return [self.book.market]

    async def ticker(self, market: Market) -> Ticker:
        self.calls.append("ticker")
        return Ticker(market=market, last_price=self.price, timestamp=T0)

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        return [await self.ticker(m) for m in markets]

    async def orderbook(self, market: Market) -> Orderbook:
        self.calls.append("orderbook")
        return self.book

    async def candles(self, market: Market, interval: CandleInterval, count: int,
                      to: datetime | None = None) -> list[Candle]:
        return []


class FixedAccount:
    """An ``Account`` source that reports given fees, for the paper exchange."""

    def __init__(self, fee: str) -> None:
        self.fee = Decimal(fee)

    async def accounts(self) -> list[Balance]:
        return []

    async def order_chance(self, market: Market) -> OrderChance:
        return OrderChance(market=market, bid_fee=self.fee, ask_fee=self.fee,
                           maker_bid_fee=self.fee, maker_ask_fee=self.fee,
                           min_total=Decimal(5000))


class MemoryOrderStore:
    """The order half of the Store port, in memory."""

    def __init__(self) -> None:
        from bithumb_llm_trader.records import FillRecord, OrderRecord

        self.orders: dict[str, OrderRecord] = {}
        self.fills: dict[tuple[str, str], FillRecord] = {}
        self.history: list[tuple[str, str]] = []

    def save_order(self, order):  # type: ignore[no-untyped-def]
        self.orders[order.client_order_id] = order
        self.history.append((order.client_order_id, order.state))

    def save_fills_and_order(self, order, fills):  # type: ignore[no-untyped-def]
        self.save_order(order)
        for fill in fills:
            self.fills.setdefault((fill.client_order_id, fill.trade_id), fill)

    def get_order(self, client_order_id):  # type: ignore[no-untyped-def]
        return self.orders.get(client_order_id)

    def unsettled_orders(self, strategy, mode):  # type: ignore[no-untyped-def]
        from bithumb_llm_trader.domain import OrderState

        return [o for o in self.orders.values() if o.strategy == strategy
                and o.mode == mode and not OrderState(o.state).is_final]


class FaultyGateway:
    """Wraps a working exchange and injects the faults a real network produces.

    ``post_faults`` is consumed one per ``place_order``:
    ``"timeout_after"`` (the exchange accepted it, the answer was lost),
    ``"timeout_before"`` (it never arrived), ``"500_after"``, ``"500_before"``,
    ``"429"``, or ``None`` (works). ``lookup_faults`` likewise for ``get_order``:
    ``"timeout"``, ``"not_found"`` or ``None``.
    """

    def __init__(self, inner, post_faults=(), lookup_faults=()):  # type: ignore[no-untyped-def]
        self.inner = inner
        self.post_faults = list(post_faults)
        self.lookup_faults = list(lookup_faults)
        self.posts: list[str] = []
        self.lookups = 0

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    async def place_order(self, request):  # type: ignore[no-untyped-def]
        from bithumb_llm_trader.errors import ExchangeUnavailable, NetworkError, RateLimitError

        self.posts.append(request.client_order_id)
        fault = self.post_faults.pop(0) if self.post_faults else None
        if fault in ("timeout_after", "500_after"):
            await self.inner.place_order(request)
        if fault in ("timeout_after", "timeout_before"):
            raise NetworkError("read timeout", idempotent=False)
        if fault in ("500_after", "500_before"):
            raise ExchangeUnavailable("HTTP 500", status=500, idempotent=False)
        if fault == "429":
            raise RateLimitError("HTTP 429", retry_after=1, idempotent=False)
        return await self.inner.place_order(request)

    async def get_order(self, *, order_id=None, client_order_id=None):  # type: ignore[no-untyped-def]
        from bithumb_llm_trader.errors import NetworkError, OrderNotFound

        self.lookups += 1
        fault = self.lookup_faults.pop(0) if self.lookup_faults else None
        if fault == "timeout":
            raise NetworkError("read timeout")
        if fault == "not_found":
            raise OrderNotFound("not found", status=404, name="order_not_found")
        return await self.inner.get_order(order_id=order_id, client_order_id=client_order_id)
