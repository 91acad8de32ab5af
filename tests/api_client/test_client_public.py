"""Public market-data calls of BithumbClient against a mocked Bithumb."""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from bithumb_llm_trader.api_client import BithumbClient
from bithumb_llm_trader.domain import KST, UTC, CandleInterval, Market, Side
from bithumb_llm_trader.errors import UnexpectedResponse
from bithumb_llm_trader.ports import Account, Exchange, MarketData, OrderGateway

from .conftest import START, ClientFactory, assert_no_float, load, raw

pytestmark = pytest.mark.anyio

KRW_BTC = Market("KRW", "BTC")
KRW_ETH = Market("KRW", "ETH")


def params(route: respx.Route, call: int = -1) -> dict[str, str]:
    return dict(route.calls[call].request.url.params)


async def test_constructor_makes_no_network_call() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    async with BithumbClient(transport=httpx.MockTransport(handler)) as client:
        assert "api.bithumb.com" in repr(client)
    assert calls == []


async def test_markets(api: respx.MockRouter, make_client: ClientFactory) -> None:
    route = api.get("/v1/market/all").respond(content=raw("v1_market_all.json"))
    assert await make_client().markets() == [KRW_BTC]
    assert params(route) == {"isDetails": "false"}
    assert "authorization" not in route.calls.last.request.headers  # public: unsigned


async def test_ticker(api: respx.MockRouter, make_client: ClientFactory) -> None:
    route = api.get("/v1/ticker").respond(content=raw("v1_ticker_partial_official.json"))
    ticker = await make_client().ticker(KRW_BTC)
    assert ticker.last_price == Decimal(136500000)
    assert ticker.timestamp == START  # no timestamp in the answer: the clock's time
    assert params(route) == {"markets": "KRW-BTC"}
    assert_no_float(ticker)


async def test_tickers_is_one_request(api: respx.MockRouter, make_client: ClientFactory) -> None:
    body = [{"market": "KRW-BTC", "trade_price": 95000000, "timestamp": 1711940400000},
            {"market": "KRW-ETH", "trade_price": Decimal("4100000.5"),
             "timestamp": 1711940400000}]
    route = api.get("/v1/ticker").respond(content=json.dumps(body, default=str).encode())
    tickers = await make_client().tickers([KRW_BTC, KRW_ETH])
    assert route.call_count == 1
    assert params(route) == {"markets": "KRW-BTC,KRW-ETH"}
    assert [t.market for t in tickers] == [KRW_BTC, KRW_ETH]
    assert tickers[1].last_price == Decimal("4100000.5")


async def test_tickers_of_nothing_sends_nothing(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get("/v1/ticker").respond(json=[])
    assert await make_client().tickers([]) == []
    assert route.call_count == 0


async def test_ticker_absent_from_the_answer(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    api.get("/v1/ticker").respond(json=[])
    with pytest.raises(UnexpectedResponse, match="KRW-BTC"):
        await make_client().ticker(KRW_BTC)


async def test_orderbook(api: respx.MockRouter, make_client: ClientFactory) -> None:
    route = api.get("/v1/orderbook").respond(content=raw("v1_orderbook.json"))
    book = await make_client().orderbook(KRW_BTC)
    assert (book.best_ask, book.best_bid) == (Decimal(45831000), Decimal(45830000))
    assert params(route) == {"markets": "KRW-BTC"}
    assert_no_float(book)


async def test_trades_come_oldest_first(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    body = [
        {"market": "KRW-BTC", "timestamp": 1711940402000, "trade_price": 3,
         "trade_volume": "0.3", "ask_bid": "BID", "sequential_id": 3},
        {"market": "KRW-BTC", "timestamp": 1711940401000, "trade_price": 2,
         "trade_volume": "0.2", "ask_bid": "ASK", "sequential_id": 2},
    ]
    route = api.get("/v1/trades/ticks").respond(json=body)
    ticks = await make_client().trades(KRW_BTC, 2)
    assert [t.sequential_id for t in ticks] == ["2", "3"]
    assert [t.side for t in ticks] == [Side.SELL, Side.BUY]
    assert params(route) == {"market": "KRW-BTC", "count": "2"}


@pytest.mark.parametrize("count", [0, 501])
async def test_trades_count_is_checked_before_sending(
    count: int, api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get("/v1/trades/ticks").respond(json=[])
    with pytest.raises(ValueError, match="count"):
        await make_client().trades(KRW_BTC, count)
    assert route.call_count == 0


# --- candles -------------------------------------------------------------------------

def candle_json(start: datetime) -> dict[str, Any]:
    return {
        "market": "KRW-BTC",
        "candle_date_time_utc": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "candle_date_time_kst": start.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S"),
        "opening_price": 100, "high_price": 110, "low_price": 90,
        "trade_price": int(start.timestamp()) % 1000,
        "timestamp": int(start.timestamp() * 1000),
        "candle_acc_trade_price": "1000.5", "candle_acc_trade_volume": "0.01", "unit": 1,
    }


class FakeCandleServer:
    """Serves 1-minute candles strictly before ``to`` (naive KST), newest first.

    ``inclusive`` also returns the candle starting exactly at ``to``, to show that
    overlapping pages are de-duplicated whichever way the exchange counts.
    """

    def __init__(self, first: datetime, last: datetime, *, inclusive: bool = False) -> None:
        self.first, self.last, self.inclusive = first, last, inclusive
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        self.requests.append(query)
        end = self.last + timedelta(minutes=1)
        if "to" in query:
            assert "+" not in query["to"] and "Z" not in query["to"]
            to = datetime.strptime(query["to"], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=KST)
            end = min(end, to + (timedelta(minutes=1) if self.inclusive else timedelta(0)))
        out: list[dict[str, Any]] = []
        moment = end - timedelta(minutes=1)
        while moment >= self.first and len(out) < int(query["count"]):
            out.append(candle_json(moment))
            moment -= timedelta(minutes=1)
        return httpx.Response(200, json=out)


FIRST = datetime(2026, 3, 31, 0, 0, tzinfo=UTC)
LAST = datetime(2026, 4, 1, 2, 59, tzinfo=UTC)


async def test_candles_single_page_oldest_first(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    server = FakeCandleServer(FIRST, LAST)
    api.get("/v1/candles/minutes/1").mock(side_effect=server)
    candles = await make_client().candles(KRW_BTC, CandleInterval.M1, 5)
    assert [c.start for c in candles] == [LAST - timedelta(minutes=n) for n in (4, 3, 2, 1, 0)]
    assert all(c.start.tzinfo is not None for c in candles)
    assert server.requests == [{"market": "KRW-BTC", "count": "5"}]
    assert_no_float(candles)


@pytest.mark.parametrize("inclusive", [False, True])
async def test_candles_page_backwards_with_naive_kst_to(
    inclusive: bool, api: respx.MockRouter, make_client: ClientFactory
) -> None:
    server = FakeCandleServer(FIRST, LAST, inclusive=inclusive)
    api.get("/v1/candles/minutes/1").mock(side_effect=server)
    to = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    candles = await make_client().candles(KRW_BTC, CandleInterval.M1, 450, to=to)
    assert len(candles) == 450
    starts = [c.start for c in candles]
    assert starts == sorted(set(starts))  # oldest first, no duplicates
    assert starts[-1] == to - timedelta(minutes=1)
    assert starts[0] == to - timedelta(minutes=450)
    assert server.requests[0] == {"market": "KRW-BTC", "count": "200",
                                  "to": "2026-04-01T11:00:00"}  # 02:00 UTC in KST
    # the next page ends where the previous one's oldest candle starts: 22:40 UTC,
    # 200 minutes back (22:41 when the exchange also sent the candle opening at ``to``)
    assert server.requests[1]["to"] == ("2026-04-01T07:41:00" if inclusive
                                        else "2026-04-01T07:40:00")
    assert all(int(r["count"]) <= 200 for r in server.requests)


async def test_candles_stop_when_history_ends(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    first = LAST - timedelta(minutes=249)  # only 250 candles exist
    server = FakeCandleServer(first, LAST)
    api.get("/v1/candles/minutes/1").mock(side_effect=server)
    candles = await make_client().candles(KRW_BTC, CandleInterval.M1, 1000)
    assert len(candles) == 250
    assert candles[0].start == first
    assert len(server.requests) == 2


async def test_candles_stop_when_a_page_brings_nothing_new(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    page = [candle_json(LAST - timedelta(minutes=n)) for n in range(200)]
    route = api.get("/v1/candles/minutes/1").respond(json=page)  # the same page forever
    candles = await make_client().candles(KRW_BTC, CandleInterval.M1, 300)
    assert len(candles) == 200
    assert route.call_count == 2


async def test_candles_at_or_after_to_are_dropped(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    # an exchange that ignores ``to`` must not leak candles that opened at or after it
    page = [candle_json(LAST - timedelta(minutes=n)) for n in range(10)]
    api.get("/v1/candles/minutes/1").respond(json=page)
    candles = await make_client().candles(KRW_BTC, CandleInterval.M1, 3,
                                          to=LAST - timedelta(minutes=5))
    assert [c.start for c in candles] == [LAST - timedelta(minutes=n) for n in (8, 7, 6)]


@pytest.mark.parametrize(("interval", "path"), [
    (CandleInterval.M1, "/v1/candles/minutes/1"),
    (CandleInterval.M3, "/v1/candles/minutes/3"),
    (CandleInterval.M5, "/v1/candles/minutes/5"),
    (CandleInterval.M10, "/v1/candles/minutes/10"),
    (CandleInterval.M15, "/v1/candles/minutes/15"),
    (CandleInterval.M30, "/v1/candles/minutes/30"),
    (CandleInterval.H1, "/v1/candles/minutes/60"),
    (CandleInterval.H4, "/v1/candles/minutes/240"),
    (CandleInterval.D1, "/v1/candles/days"),
    (CandleInterval.W1, "/v1/candles/weeks"),
    (CandleInterval.MO1, "/v1/candles/months"),
])
async def test_every_interval_has_its_path(
    interval: CandleInterval, path: str, api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get(path).respond(json=[candle_json(LAST)])
    [candle] = await make_client().candles(KRW_BTC, interval, 1)
    assert candle.start == LAST
    assert route.call_count == 1


async def test_candle_arguments_are_checked(make_client: ClientFactory) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="count"):
        await client.candles(KRW_BTC, CandleInterval.M1, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        await client.candles(KRW_BTC, CandleInterval.M1, 1, to=datetime(2026, 1, 1))


async def test_public_calls_need_no_keys(api: respx.MockRouter, clock: Any) -> None:
    api.get("/v1/orderbook").respond(content=raw("v1_orderbook.json"))
    async with BithumbClient(transport=httpx.MockTransport(api.async_handler),
                             clock=clock) as client:
        book = await client.orderbook(KRW_BTC)
    assert book.market == KRW_BTC
    assert load("v1_orderbook.json")[0]["market"] == "KRW-BTC"


def as_exchange(client: BithumbClient) -> Exchange:
    """Type-checked structural conformance: mypy fails here if a signature drifts."""
    return client


def test_client_has_every_method_of_the_exchange_port() -> None:
    port_methods = {name for name in vars(Exchange) | vars(MarketData) | vars(Account)
                    | vars(OrderGateway) if not name.startswith("_")}
    assert port_methods == {"markets", "ticker", "tickers", "orderbook", "candles",
                            "accounts", "order_chance", "place_order", "get_order",
                            "cancel_order", "open_orders"}
    for name in port_methods:
        assert inspect.iscoroutinefunction(getattr(BithumbClient, name)), name
    assert inspect.iscoroutinefunction(BithumbClient.trades)
