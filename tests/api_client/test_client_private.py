"""Private (JWT) calls of BithumbClient against a mocked Bithumb."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest
import respx

from bithumb_llm_trader.api_client import BithumbClient
from bithumb_llm_trader.domain import (
    Market,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from bithumb_llm_trader.errors import AuthError, OrderNotFound, UnexpectedResponse

from .conftest import API_KEY, API_SECRET, NONCE, START, ClientFactory, assert_no_float, raw

pytestmark = pytest.mark.anyio

KRW_BTC = Market("KRW", "BTC")
START_MS = 1775012400000
CHECK_HASH = (
    "b749dfc2e17f75e5b46c8161f97fe7c9298ed4167ea21c5c94d16573efd8a801"
    "351470c0ff1a9a3f1e763f8249968218c04c571c8b45aa80cd4588e6c4be0738"
)
PLACED = json.dumps(json.loads(raw("v2_orders_batch.json"))["batch_orders_response"][0])


def claims_of(request: httpx.Request) -> dict[str, Any]:
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    decoded: dict[str, Any] = jwt.decode(token, API_SECRET, algorithms=["HS256"])
    return decoded


def limit_buy(cid: str = "20260106-test00") -> OrderRequest:
    return OrderRequest(KRW_BTC, Side.BUY, OrderType.LIMIT, cid,
                        volume=Decimal("0.0010"), price=Decimal("9.5E+7"))


@pytest.mark.parametrize(("keys", "missing"), [
    ({}, "no api_key and no api_secret"),
    ({"api_key": API_KEY}, "no api_secret;"),
    ({"api_secret": API_SECRET}, "no api_key;"),
    ({"api_key": "", "api_secret": ""}, "no api_key and no api_secret"),
])
async def test_private_calls_without_keys_fail_before_any_io(
    keys: dict[str, str], missing: str, api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.route().respond(json=[])
    client = make_client(**{"api_key": None, "api_secret": None, **keys})
    calls = [client.accounts(), client.order_chance(KRW_BTC), client.place_order(limit_buy()),
             client.get_order(order_id="C1"), client.cancel_order(order_id="C1"),
             client.open_orders(KRW_BTC)]
    for call in calls:
        with pytest.raises(AuthError, match="private call") as caught:
            await call
        assert caught.value.status == 0
        assert missing in str(caught.value)
        assert API_KEY not in str(caught.value) and API_SECRET not in str(caught.value)
    assert route.call_count == 0


async def test_accounts_are_signed_without_query_hash(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get("/v1/accounts").respond(content=raw("v1_accounts.json"))
    balances = await make_client().accounts()
    assert [b.currency for b in balances] == ["KRW", "BTC", "ETH"]
    assert claims_of(route.calls.last.request) == {
        "access_key": API_KEY, "nonce": NONCE, "timestamp": START_MS}
    assert_no_float(balances)


async def test_order_chance_signs_the_api_notes_query(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get("/v1/orders/chance").respond(content=raw("v1_orders_chance.json"))
    chance = await make_client().order_chance(KRW_BTC)
    request = route.calls.last.request
    assert dict(request.url.params) == {"market": "KRW-BTC"}
    claims = claims_of(request)
    assert claims["query_hash"] == CHECK_HASH
    assert claims["query_hash_alg"] == "SHA512"
    assert chance.min_total == Decimal("0.0005")


async def test_limit_order_body_hash_and_answer(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.post("/v2/orders").respond(201, content=PLACED.encode())
    order = await make_client().place_order(limit_buy())
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = json.loads(request.content)
    assert body == {"market": "KRW-BTC", "side": "bid", "order_type": "limit",
                    "price": "95000000", "volume": "0.001",
                    "client_order_id": "20260106-test00"}
    text = ("market=KRW-BTC&side=bid&order_type=limit&price=95000000&volume=0.001"
            "&client_order_id=20260106-test00")
    assert claims_of(request)["query_hash"] == hashlib.sha512(text.encode()).hexdigest()
    assert dict(request.url.params) == {}
    assert order.state is OrderState.WAIT
    assert (order.order_id, order.client_order_id) == (
        "C0101000007410713262", "20260106-test00")
    assert_no_float(order)


@pytest.mark.parametrize(("request_", "expected"), [
    (OrderRequest(KRW_BTC, Side.BUY, OrderType.MARKET, "mb-1", notional=Decimal("50000")),
     {"order_type": "price", "price": "50000"}),
    (OrderRequest(KRW_BTC, Side.SELL, OrderType.MARKET, "ms-1", volume=Decimal("0.00012")),
     {"order_type": "market", "volume": "0.00012"}),
])
async def test_market_order_wire_mapping(
    request_: OrderRequest, expected: dict[str, str],
    api: respx.MockRouter, make_client: ClientFactory,
) -> None:
    route = api.post("/v2/orders").respond(json={"order_id": "C7", "created_at":
                                                 "2026-04-01T12:00:00+09:00"})
    order = await make_client().place_order(request_)
    body = json.loads(route.calls.last.request.content)
    assert body == {"market": "KRW-BTC", "side": request_.side.value,
                    "client_order_id": request_.client_order_id, **expected}
    assert order.order_type is OrderType.MARKET
    assert order.client_order_id == request_.client_order_id


async def test_v1_shaped_placement_answer_is_parsed_fully(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    api.post("/v2/orders").respond(content=raw("v1_order_get_with_trades.json"))
    order = await make_client().place_order(limit_buy())
    assert order.state is OrderState.DONE
    assert order.executed_funds == Decimal(83000000)
    assert order.client_order_id == "20260106-test00"


async def test_unreadable_placement_answer_is_not_safe_to_retry(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.post("/v2/orders").respond(json={"unexpected": True})
    with pytest.raises(UnexpectedResponse, match="probably placed") as caught:
        await make_client().place_order(limit_buy())
    assert not caught.value.safe_to_retry
    assert route.call_count == 1


async def test_get_order_by_exchange_id_with_fills(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get("/v1/order").respond(content=raw("v1_order_get_with_trades.json"))
    order = await make_client().get_order(order_id="C0101000000001799231")
    request = route.calls.last.request
    assert dict(request.url.params) == {"uuid": "C0101000000001799231"}
    assert claims_of(request)["query_hash"] == hashlib.sha512(
        b"uuid=C0101000000001799231").hexdigest()
    assert order.state is OrderState.DONE
    assert [fill.trade_id for fill in order.fills] == ["C0101000000001713006"]


async def test_get_order_by_client_order_id(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get("/v1/order").respond(content=raw("v1_order_get_with_trades.json"))
    await make_client().get_order(client_order_id="cid-9")
    assert dict(route.calls.last.request.url.params) == {"client_order_id": "cid-9"}


async def test_get_order_not_found(api: respx.MockRouter, make_client: ClientFactory) -> None:
    api.get("/v1/order").respond(404, json={"error": {"name": "order_not_found",
                                                      "message": "주문을 찾지 못했습니다."}})
    with pytest.raises(OrderNotFound):
        await make_client().get_order(client_order_id="never-sent")


async def test_an_order_reference_is_required(make_client: ClientFactory) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="order_id or client_order_id"):
        await client.get_order()
    with pytest.raises(ValueError, match="order_id or client_order_id"):
        await client.cancel_order()


async def test_cancel_order(api: respx.MockRouter, make_client: ClientFactory) -> None:
    route = api.delete("/v2/order").respond(content=raw("v2_order_delete.json"))
    client = make_client()
    await client.cancel_order(order_id="C0101000000001799625")
    assert dict(route.calls.last.request.url.params) == {"order_id": "C0101000000001799625"}
    assert claims_of(route.calls.last.request)["query_hash"] == hashlib.sha512(
        b"order_id=C0101000000001799625").hexdigest()
    await client.cancel_order(client_order_id="cid-5")
    assert dict(route.calls.last.request.url.params) == {"client_order_id": "cid-5"}


async def test_cancel_of_an_unknown_order(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    api.delete("/v2/order").respond(404, json={"error": {"name": "order_not_found",
                                                         "message": "없음"}})
    with pytest.raises(OrderNotFound):
        await make_client().cancel_order(order_id="C404")


async def test_open_orders_keep_only_the_market_asked_for(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.get("/v1/orders").respond(content=raw("v1_orders_list.json"))
    orders = await make_client().open_orders(KRW_BTC)
    assert dict(route.calls.last.request.url.params) == {"market": "KRW-BTC", "state": "wait"}
    assert [o.order_id for o in orders] == ["C0101000000001799625"]
    assert orders[0].state is OrderState.WAIT
    assert orders[0].remaining_volume == Decimal("0.2")


async def test_timestamp_follows_the_injected_clock(
    api: respx.MockRouter, make_client: ClientFactory, clock: Any
) -> None:
    route = api.get("/v1/accounts").respond(content=raw("v1_accounts.json"))
    client = make_client()
    await client.accounts()
    clock.advance(1.5)
    await client.accounts()
    stamps = [claims_of(call.request)["timestamp"] for call in route.calls]
    assert stamps == [START_MS, START_MS + 1500]
    assert START.timestamp() * 1000 == START_MS


async def test_default_nonces_are_fresh_uuids(api: respx.MockRouter, clock: Any) -> None:
    route = api.get("/v1/accounts").respond(content=raw("v1_accounts.json"))
    async with BithumbClient(api_key=API_KEY, api_secret=API_SECRET, clock=clock,
                             transport=httpx.MockTransport(api.async_handler)) as client:
        await client.accounts()
        await client.accounts()
    nonces = [claims_of(call.request)["nonce"] for call in route.calls]
    assert len(set(nonces)) == 2 and all(len(n) == 36 for n in nonces)
