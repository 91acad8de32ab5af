"""The per-category limiter: N requests pass, request N+1 waits on the fake clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from bithumb_llm_trader.api_client import RateLimiter
from bithumb_llm_trader.api_client.endpoints import Category, Rate
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import Market

from .conftest import ClientFactory, raw

pytestmark = pytest.mark.anyio

KRW_BTC = Market("KRW", "BTC")


@pytest.mark.parametrize(("category", "limit"), [
    (Category.PUBLIC_CANDLES, 150), (Category.PUBLIC_ORDERBOOK, 150),
    (Category.PUBLIC_TICKER, 150), (Category.PUBLIC_TRADES, 150),
    (Category.PUBLIC_OTHER, 150), (Category.PRIVATE_ORDER, 140),
    (Category.PRIVATE_CANCEL, 140), (Category.PRIVATE_OTHER, 140), (Category.BATCH, 20),
])
async def test_published_limits_n_pass_and_n_plus_one_waits(
    category: Category, limit: int, clock: ManualClock
) -> None:
    limiter = RateLimiter(clock)
    for _ in range(limit):
        await limiter.acquire(category)
    assert clock.sleeps == []
    await limiter.acquire(category)
    assert clock.sleeps == [pytest.approx(1.0)]


async def test_categories_are_independent(clock: ManualClock) -> None:
    limits = {Category.PUBLIC_TICKER: Rate(2), Category.PUBLIC_CANDLES: Rate(2)}
    limiter = RateLimiter(clock, limits)
    for _ in range(2):
        await limiter.acquire(Category.PUBLIC_TICKER)
        await limiter.acquire(Category.PUBLIC_CANDLES)
    assert clock.sleeps == []


async def test_the_window_slides(clock: ManualClock) -> None:
    limiter = RateLimiter(clock, {Category.PUBLIC_TICKER: Rate(2)})
    await limiter.acquire(Category.PUBLIC_TICKER)  # t=0
    clock.advance(0.6)
    await limiter.acquire(Category.PUBLIC_TICKER)  # t=0.6
    await limiter.acquire(Category.PUBLIC_TICKER)  # must wait until t=1.0
    assert clock.sleeps == [pytest.approx(0.4)]
    clock.advance(5)
    await limiter.acquire(Category.PUBLIC_TICKER)
    assert len(clock.sleeps) == 1


async def test_concurrent_tasks_each_get_their_own_slot(clock: ManualClock) -> None:
    limiter = RateLimiter(clock, {Category.PRIVATE_ORDER: Rate(2)})
    await asyncio.gather(*(limiter.acquire(Category.PRIVATE_ORDER) for _ in range(5)))
    # slots at t = 0, 0, 1, 1, 2: five requests at 2/s cannot all be out before t = 2
    # (ManualClock moves time at each sleep, so the fourth finds its slot already due)
    assert clock.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    assert clock.monotonic() == pytest.approx(2.0)


async def test_unknown_category_is_an_error(clock: ManualClock) -> None:
    limiter = RateLimiter(clock, {Category.PUBLIC_TICKER: Rate(1)})
    with pytest.raises(ValueError, match="batch"):
        await limiter.acquire(Category.BATCH)


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(limits={Category.BATCH: Rate(0)})


async def test_client_waits_on_its_clock_at_151_tickers_in_a_second(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/ticker").respond(content=raw("v1_ticker_partial_official.json"))
    client = make_client()
    for _ in range(150):
        await client.ticker(KRW_BTC)
    assert clock.sleeps == []
    await client.ticker(KRW_BTC)
    assert clock.sleeps == [pytest.approx(1.0)]
    assert route.call_count == 151


async def test_one_limiter_is_shared_by_several_clients(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    api.get("/v1/orderbook").respond(content=raw("v1_orderbook.json"))
    limiter = RateLimiter(clock, {Category.PUBLIC_ORDERBOOK: Rate(3)})
    first, second = make_client(rate_limiter=limiter), make_client(rate_limiter=limiter)
    await asyncio.gather(first.orderbook(KRW_BTC), second.orderbook(KRW_BTC),
                         first.orderbook(KRW_BTC))
    assert clock.sleeps == []
    await second.orderbook(KRW_BTC)
    assert clock.sleeps == [pytest.approx(1.0)]


async def test_retries_go_through_the_limiter(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    api.get("/v1/orderbook").mock(side_effect=[
        httpx.Response(503), httpx.Response(200, content=raw("v1_orderbook.json"))])
    limiter = RateLimiter(clock, {Category.PUBLIC_ORDERBOOK: Rate(1, per_seconds=2.0)})
    await make_client(rate_limiter=limiter).orderbook(KRW_BTC)
    # backoff 0.5 s, then the limiter holds the retry until the 2 s window has passed
    assert clock.sleeps == [0.5, pytest.approx(1.5)]
