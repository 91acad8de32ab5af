"""Retry rules: idempotent calls back off on the clock; an order POST is never repeated."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import respx

from bithumb_llm_trader.api_client.retry import RetryPolicy
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import Market, OrderRequest, OrderType, Side
from bithumb_llm_trader.errors import (
    ExchangeRejected,
    ExchangeUnavailable,
    NetworkError,
    OrderNotReady,
    RateLimitError,
    TraderError,
    UnexpectedResponse,
)

from .conftest import ClientFactory, raw

pytestmark = pytest.mark.anyio

KRW_BTC = Market("KRW", "BTC")
ORDERBOOK = raw("v1_orderbook.json")
UNAVAILABLE = httpx.Response(503, json={"error": {"name": "server_error", "message": "x"}})


def order() -> OrderRequest:
    return OrderRequest(KRW_BTC, Side.BUY, OrderType.LIMIT, "cid-1",
                        volume=Decimal("0.001"), price=Decimal(95000000))


async def test_get_is_retried_after_5xx_then_succeeds(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/orderbook").mock(side_effect=[
        UNAVAILABLE, httpx.Response(502, content=b"<html>"),
        httpx.Response(200, content=ORDERBOOK)])
    book = await make_client().orderbook(KRW_BTC)
    assert book.best_bid == Decimal(45830000)
    assert route.call_count == 3
    assert clock.sleeps == [0.5, 1.0]


@pytest.mark.parametrize("fault", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"),
                                   httpx.RemoteProtocolError("dropped")])
async def test_get_is_retried_after_network_errors(
    fault: Exception, api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/orderbook").mock(side_effect=[
        fault, httpx.Response(200, content=ORDERBOOK)])
    await make_client().orderbook(KRW_BTC)
    assert route.call_count == 2
    assert clock.sleeps == [0.5]


async def test_retry_after_is_honoured(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/accounts").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(200, content=raw("v1_accounts.json"))])
    await make_client().accounts()
    assert route.call_count == 3
    assert clock.sleeps == [2.0, 1.0]  # never shorter than the backoff either


async def test_a_retry_after_beyond_the_cap_is_raised_not_slept(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/ticker").respond(429, headers={"Retry-After": "600"})
    with pytest.raises(RateLimitError) as caught:
        await make_client().ticker(KRW_BTC)
    assert caught.value.retry_after == 600.0
    assert route.call_count == 1 and clock.sleeps == []


async def test_gives_up_after_max_retries(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/orderbook").mock(return_value=UNAVAILABLE)
    with pytest.raises(ExchangeUnavailable) as caught:
        await make_client(max_retries=3).orderbook(KRW_BTC)
    assert caught.value.safe_to_retry
    assert route.call_count == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]


async def test_zero_retries(api: respx.MockRouter, make_client: ClientFactory,
                            clock: ManualClock) -> None:
    route = api.get("/v1/orderbook").mock(return_value=UNAVAILABLE)
    with pytest.raises(ExchangeUnavailable):
        await make_client(max_retries=0).orderbook(KRW_BTC)
    assert route.call_count == 1 and clock.sleeps == []


async def test_rejections_are_not_retried(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/orders/chance").respond(
        400, json={"error": {"name": "invalid_parameter", "message": "x"}})
    with pytest.raises(ExchangeRejected):
        await make_client().order_chance(KRW_BTC)
    assert route.call_count == 1 and clock.sleeps == []


async def test_order_not_ready_is_asked_again_shortly(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/order").mock(side_effect=[
        httpx.Response(422, json={"error": {"name": "order_not_ready", "message": "x"}}),
        httpx.Response(200, content=raw("v1_order_get_with_trades.json"))])
    found = await make_client().get_order(client_order_id="cid-1")
    assert found.order_id == "C0101000000001799231"
    assert route.call_count == 2 and clock.sleeps == [0.5]


async def test_cancel_is_retried(api: respx.MockRouter, make_client: ClientFactory,
                                 clock: ManualClock) -> None:
    route = api.delete("/v2/order").mock(side_effect=[
        httpx.ReadTimeout("slow"), httpx.Response(200, content=raw("v2_order_delete.json"))])
    await make_client().cancel_order(order_id="C0101000000001799625")
    assert route.call_count == 2 and clock.sleeps == [0.5]


@pytest.mark.parametrize(("answer", "error"), [
    (httpx.ReadTimeout("slow"), NetworkError),
    (UNAVAILABLE, ExchangeUnavailable),
    (httpx.Response(429, headers={"Retry-After": "1"}), RateLimitError),
    (httpx.Response(200, content=b"<html>oops</html>"), UnexpectedResponse),
    (httpx.Response(422, json={"error": {"name": "order_not_ready", "message": "x"}}),
     OrderNotReady),
])
async def test_order_post_is_never_retried_and_says_not_safe(
    answer: httpx.Response | Exception, error: type[TraderError],
    api: respx.MockRouter, make_client: ClientFactory,
    clock: ManualClock,
) -> None:
    route = api.post("/v2/orders").mock(side_effect=[answer, httpx.Response(200, json={})])
    with pytest.raises(error) as caught:
        await make_client().place_order(order())
    assert caught.value.retryable
    assert caught.value.safe_to_retry is False
    assert route.call_count == 1 and clock.sleeps == []


async def test_order_post_connect_error_was_not_sent_but_is_still_not_retried(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.post("/v2/orders").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(NetworkError) as caught:
        await make_client().place_order(order())
    assert caught.value.request_sent is False
    assert caught.value.safe_to_retry  # the caller may resend: nothing left
    assert route.call_count == 1 and clock.sleeps == []


def test_policy_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=6, base_delay=0.5, max_delay=4.0)
    fault = NetworkError("x")
    assert [policy.delay(fault, n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, None]


def test_policy_rejects_negative_retries() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
