"""Wiring for TWAP tests: a market whose book changes on the fake clock, a gateway that
records every POST with its clock time and injects faults and crashes, the paper
exchange, and the real SQL store on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import (
    Candle,
    CandleInterval,
    Level,
    Market,
    Order,
    Orderbook,
    OrderRequest,
    Side,
    Ticker,
)
from bithumb_llm_trader.errors import NetworkError, OrderNotFound
from bithumb_llm_trader.paper import PaperExchange
from bithumb_llm_trader.store import SqlStore, open_store
from bithumb_llm_trader.twap import TWAPExecutor, TwapParams

from ..gates import gated_executor

D = Decimal
KRW_BTC = Market.parse("KRW-BTC")
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def book(asks: Sequence[tuple[str, str]],
         bids: Sequence[tuple[str, str]] = (("99990000", "1"),)) -> Orderbook:
    return Orderbook(market=KRW_BTC, timestamp=START,
                     asks=tuple(Level(D(p), D(s)) for p, s in asks),
                     bids=tuple(Level(D(p), D(s)) for p, s in bids))


def deep_book(best_ask: str = "100000000", best_bid: str = "99990000") -> Orderbook:
    """Ten BTC at the touch on each side: no slice of these tests ever walks past it."""
    return book([(best_ask, "10"), (str(D(best_ask) + 1000), "10")],
                [(best_bid, "10"), (str(D(best_bid) - 1000), "10")])


class ScheduledMarket:
    """Market data whose book changes at given times of the fake clock.

    ``overrides`` are books returned once each, before the schedule, to make the book
    move between the TWAP's read and the exchange's.
    """

    def __init__(self, clock: ManualClock, first: Orderbook) -> None:
        self.clock = clock
        self.schedule: list[tuple[datetime, Orderbook]] = [(clock.now(), first)]
        self.overrides: list[Orderbook] = []
        self.reads = 0

    def at(self, when: datetime, new_book: Orderbook) -> None:
        self.schedule.append((when, new_book))
        self.schedule.sort(key=lambda item: item[0])

    async def orderbook(self, market: Market) -> Orderbook:
        self.reads += 1
        if self.overrides:
            return self.overrides.pop(0)
        now = self.clock.now()
        return [b for when, b in self.schedule if when <= now][-1]

    async def markets(self) -> list[Market]:
        return [KRW_BTC]

    async def ticker(self, market: Market) -> Ticker:
        current = await self.orderbook(market)
        assert current.best_ask is not None
        return Ticker(market=market, last_price=current.best_ask, timestamp=self.clock.now())

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        return [await self.ticker(m) for m in markets]

    async def candles(self, market: Market, interval: CandleInterval, count: int,
                      to: datetime | None = None) -> list[Candle]:
        return []


class PowerCut(BaseException):
    """A crash nothing in the library catches: the process is simply gone."""


class Gateway:
    """The paper exchange, seen through a network that records and misbehaves.

    ``faults`` maps a slice number to what happens to its POST: ``"timeout_after"``
    (accepted, answer lost), ``"crash_before"`` / ``"crash_after"`` (the process dies
    before the POST leaves / after the exchange accepted it). ``lookup_faults`` are
    consumed one per ``get_order``: ``"timeout"`` or None.
    """

    def __init__(self, inner: PaperExchange, clock: ManualClock) -> None:
        self.inner = inner
        self.clock = clock
        self.faults: dict[int, str] = {}
        self.lookup_faults: list[str | None] = []
        self.posts: list[tuple[str, datetime]] = []
        self.cancels: list[str] = []
        self.crash: type[BaseException] = PowerCut

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place_order(self, request: OrderRequest) -> Order:
        fault = self.faults.get(slice_no(request.client_order_id))
        if fault == "crash_before":
            raise self.crash("crash before the POST")
        self.posts.append((request.client_order_id, self.clock.now()))
        order = await self.inner.place_order(request)
        if fault == "timeout_after":
            raise NetworkError("read timeout", idempotent=False)
        if fault == "crash_after":
            raise self.crash("crash after the exchange accepted the order")
        return order

    async def get_order(self, *, order_id: str | None = None,
                        client_order_id: str | None = None) -> Order:
        fault = self.lookup_faults.pop(0) if self.lookup_faults else None
        if fault == "timeout":
            raise NetworkError("read timeout")
        if fault == "not_found":
            raise OrderNotFound("not found", status=404, name="order_not_found")
        return await self.inner.get_order(order_id=order_id, client_order_id=client_order_id)

    async def cancel_order(self, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> None:
        self.cancels.append(order_id or client_order_id or "")
        await self.inner.cancel_order(order_id=order_id, client_order_id=client_order_id)

    def posted_slices(self) -> list[int]:
        return [slice_no(cid) for cid, _ in self.posts]


def slice_no(client_order_id: str) -> int:
    return int(client_order_id.rsplit("-", 1)[1])


@dataclass
class Rig:
    clock: ManualClock
    market: ScheduledMarket
    store: SqlStore
    paper: PaperExchange
    gateway: Gateway
    executor: TWAPExecutor

    def fresh_process(self) -> Rig:
        """A new executor and paper exchange on the same database, as after a restart."""
        return build(self.clock, self.market, self.store)


def build(clock: ManualClock, market: ScheduledMarket, store: SqlStore,
          balances: dict[str, Decimal] | None = None) -> Rig:
    paper = PaperExchange(market, store, strategy="twap-test", clock=clock,
                          initial_balances=balances or {"KRW": D(100_000_000), "BTC": D(1)},
                          fee_rate=D("0.0025"), min_order_krw=D(5000))
    gateway = Gateway(paper, clock)
    counter = iter(range(1, 1000))
    orders = gated_executor(gateway, data=paper, account=paper, store=store, clock=clock,
                            owner="twap-test")
    executor = TWAPExecutor(paper, clock, store, strategy="twap-test", orders=orders,
                            new_id=lambda: f"{next(counter):04d}" + "ab" * 14)
    return Rig(clock, market, store, paper, gateway, executor)


def rig(tmp_path: Path, first: Orderbook | None = None,
        balances: dict[str, Decimal] | None = None) -> Rig:
    clock = ManualClock(START)
    market = ScheduledMarket(clock, first or deep_book())
    store = open_store(f"sqlite:///{tmp_path / 'twap.db'}", clock=clock)
    return build(clock, market, store, balances)


def params(**values: Any) -> TwapParams:
    defaults: dict[str, Any] = {"market": KRW_BTC, "side": Side.BUY,
                                "duration": timedelta(minutes=10), "slices": 10,
                                "max_slippage_bps": D(30)}
    if "volume" not in values:
        defaults["notional"] = D(1_000_000)
    defaults.update(values)
    return TwapParams(**defaults)


def rows(store: SqlStore, table: str) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with store.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {table}"))]
