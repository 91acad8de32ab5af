"""Market data that cannot be true fails the cycle at ``snapshot``: no decision, no order.

The stand-in exchange serves a consistent market; each test then makes one answer
impossible, after parsing (the client's method is wrapped) so the sanity check itself
is what refuses it, and once on the wire for the whole path.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bithumb_llm_trader.domain import Candle, CandleInterval, Market, Ticker

from ..standin import BithumbStandIn
from .helpers import START, Rig, buy, hold, rig, rows

pytestmark = pytest.mark.anyio

D = Decimal
BOOK_PRICE = D(100_000_000)  # the stand-in's best ask; its best bid is 1,000 below


def serve_ticker(r: Rig, price: Decimal) -> None:
    """The client reports ``price`` as the last trade, whatever the book says."""
    real = r.client.ticker

    async def ticker(market: Market) -> Ticker:
        return dataclasses.replace(await real(market), last_price=price)

    r.client.ticker = ticker  # type: ignore[method-assign]


def serve_candles(r: Rig, lag: timedelta | None) -> None:
    """The client's candles end ``lag`` before now (a frozen feed); None: no candles."""
    real = r.client.candles

    async def candles(market: Market, interval: CandleInterval, count: int,
                      to: Any = None) -> list[Candle]:
        if lag is None:
            return []
        cutoff = r.clock.now() - lag
        return [c for c in await real(market, interval, count, to) if c.start <= cutoff]

    r.client.candles = candles  # type: ignore[method-assign]


def assert_refused_at_snapshot(r: Rig, result: Any, reason: str, *, posts: int = 0) -> None:
    assert not result.ok
    assert result.error.startswith(f"snapshot: MarketDataRejected: {reason}: "), result.error
    assert [(s.name, s.status) for s in result.steps][-1] == ("snapshot", "failed")
    assert "decide" not in [s.name for s in result.steps]
    assert result.decision is None and result.execution is None
    assert r.standin.order_posts == posts
    run = rows(r.store, "cron_runs")[-1]
    assert run["status"] == "failed" and run["error"] == result.error


@pytest.mark.parametrize("price", [D(-64_000_000), D(0)])
async def test_a_ticker_that_is_not_a_price_sends_no_order(tmp_path: Path,
                                                            price: Decimal) -> None:
    r = rig(tmp_path, [buy()], live=True)
    serve_ticker(r, price)
    result = await r.engine.run_cycle()
    assert_refused_at_snapshot(r, result, "price_not_positive")
    assert r.decider.calls == []
    assert rows(r.store, "orders") == []


async def test_a_ticker_far_below_the_book_does_not_trigger_the_stop(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy(), hold()], live=True)
    first = await r.engine.run_cycle()
    assert first.execution and first.execution["status"] == "filled"
    guard = r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value)
    assert guard is not None and guard.stop_loss_price is not None
    held = r.standin.balances["BTC"]
    asked, posts = len(r.decider.calls), r.standin.order_posts

    serve_ticker(r, BOOK_PRICE / 10)  # far below the stop, but the book has not moved
    r.clock.advance(900)
    second = await r.engine.run_cycle()
    assert_refused_at_snapshot(r, second, "ticker_off_book", posts=posts)
    assert "from the book mid" in second.error
    assert len(r.decider.calls) == asked
    assert r.standin.balances["BTC"] == held  # the position was not sold
    assert r.store.load_guard("e2e", "KRW-BTC", r.engine.mode.value) == guard


async def test_no_candles_send_no_order(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()], live=True)
    serve_candles(r, None)
    result = await r.engine.run_cycle()
    assert_refused_at_snapshot(r, result, "no_candles")
    assert r.decider.calls == []


async def test_stale_candles_send_no_order(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()], live=True)  # 15m candles: stale after 30 minutes
    serve_candles(r, timedelta(minutes=50))
    result = await r.engine.run_cycle()
    assert_refused_at_snapshot(r, result, "stale_candles")
    assert r.decider.calls == []


async def test_the_next_cycle_trades_once_the_data_is_sane_again(tmp_path: Path) -> None:
    r = rig(tmp_path, [buy()])  # paper: the dry path builds its snapshot the same way
    real = r.client.ticker
    serve_ticker(r, D(0))
    refused = await r.engine.run_cycle()
    assert refused.error is not None and "price_not_positive" in refused.error
    r.client.ticker = real  # type: ignore[method-assign]
    r.clock.advance(900)
    result = await r.engine.run_cycle()
    assert result.ok, result.error
    assert result.execution is not None and result.execution["status"] == "filled"


class SkewedTicker(BithumbStandIn):
    """The stand-in exchange whose ticker endpoint reports ``ticker_price``."""

    ticker_price = D(-64_000_000)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/ticker":
            return super().handle(request)
        self.requests.append(request)
        stamp = int(self.now().timestamp() * 1000)
        return self._json([{"market": "KRW-BTC", "trade_price": self.ticker_price,
                            "timestamp": stamp}])


async def test_a_negative_ticker_on_the_wire_sends_no_order(tmp_path: Path) -> None:
    standin = SkewedTicker(now=START)  # the rig's clock does not move in this test
    r = rig(tmp_path, [buy()], live=True, standin=standin)
    result = await r.engine.run_cycle()
    # refused by the sanity check, or earlier by the parser: either way, before a decision
    assert not result.ok and result.error is not None
    assert result.error.startswith("snapshot: "), result.error
    assert r.decider.calls == []
    assert standin.order_posts == 0
    assert rows(r.store, "orders") == []
