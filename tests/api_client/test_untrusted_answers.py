"""Exchange answers are untrusted: every odd one becomes a typed error or UNKNOWN, never an
order. Legacy ``{"status", "message"}`` errors, text bodies, impossible numbers, states we
do not know; through the whole client (mock transport) and the pure functions alike."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from bithumb_llm_trader.api_client import parsing
from bithumb_llm_trader.api_client.errors import decode_answer
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import UTC, Market, OrderRequest, OrderState, OrderType, Side
from bithumb_llm_trader.errors import (
    AuthError,
    ExchangeRejected,
    ExchangeUnavailable,
    ImplausibleNumber,
    RateLimitError,
    RejectedError,
    UnexpectedResponse,
)

from .conftest import ClientFactory, load, raw

pytestmark = pytest.mark.anyio

KRW_BTC = Market("KRW", "BTC")
NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
CUSTOM_NOTICE = {"status": "5600", "message": "최소 구매수량은 0.0001BTC 입니다."}


def limit_buy() -> OrderRequest:
    return OrderRequest(KRW_BTC, Side.BUY, OrderType.LIMIT, "cid-untrusted",
                        volume=Decimal("0.001"), price=Decimal(95000000))


def accounts_with(balance: Any) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = load("v1_accounts.json")
    accounts[1]["balance"] = balance
    return accounts


def decode(status: int, body: Any, *, idempotent: bool = True) -> Any:
    response = httpx.Response(status, content=json.dumps(body).encode())
    return decode_answer(response, where="POST /v2/orders", idempotent=idempotent, now=NOW)


# --- legacy {"status", "message"} errors --------------------------------------------


async def test_legacy_error_with_http_200_on_place_order_is_a_rejection_with_its_message(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.post("/v2/orders").respond(200, json=CUSTOM_NOTICE)
    with pytest.raises(ExchangeRejected) as caught:
        await make_client().place_order(limit_buy())
    exc = caught.value
    assert (exc.status, exc.name) == (200, "5600")
    assert "최소 구매수량" in str(exc) and "probably placed" not in str(exc)
    assert isinstance(exc, RejectedError) and not exc.retryable
    assert route.call_count == 1


async def test_legacy_error_on_4xx_keeps_code_and_message(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    api.post("/v2/orders").respond(400, json={"status": "5500", "message": "Invalid Parameter"})
    with pytest.raises(ExchangeRejected) as caught:
        await make_client().place_order(limit_buy())
    assert (caught.value.status, caught.value.name) == (400, "5500")
    assert "Invalid Parameter" in str(caught.value)


@pytest.mark.parametrize("message", ["too many connections", "Please try again",
                                     "접속 차단된 IP입니다."])
@pytest.mark.parametrize("status", [200, 400, 403])
def test_legacy_rate_limit_codes_are_rate_limiting(status: int, message: str) -> None:
    with pytest.raises(RateLimitError) as caught:
        decode(status, {"status": "5600", "message": message}, idempotent=False)
    assert message in str(caught.value)
    assert caught.value.retryable and not caught.value.safe_to_retry  # an order POST


async def test_legacy_rate_limit_is_retried_like_a_429(
    api: respx.MockRouter, make_client: ClientFactory, clock: ManualClock
) -> None:
    route = api.get("/v1/accounts").mock(side_effect=[
        httpx.Response(200, json={"status": "5600", "message": "Please try again"}),
        httpx.Response(200, content=raw("v1_accounts.json"))])
    balances = await make_client().accounts()
    assert [b.currency for b in balances] == ["KRW", "BTC", "ETH"]
    assert route.call_count == 2 and clock.sleeps == [0.5]


def test_the_numeric_name_form_of_a_rate_limit_code_is_rate_limiting() -> None:
    with pytest.raises(RateLimitError):
        decode(200, {"error": {"name": 5600, "message": "Please try again"}})


def test_legacy_success_status_is_not_an_error() -> None:
    body = {"status": "0000", "data": {"order_id": "C1"}}
    assert decode(200, body) == body


@pytest.mark.parametrize(("body", "expected"), [
    ({"status": "5300", "message": "Invalid Apikey"}, AuthError),
    ({"status": "5302", "message": "Method Not Allowed.(Access IP)"}, AuthError),
    ({"status": "5100", "message": "Bad Request.(Auth Data)"}, AuthError),
    ({"status": "5100", "message": "Bad Request(SSL)"}, ExchangeRejected),
    ({"status": 5500, "message": "Invalid Parameter"}, ExchangeRejected),
    ({"status": "5600", "message": {"message": "주문량이 부족합니다."}}, ExchangeRejected),
])
def test_legacy_codes_map_to_the_typed_errors(body: dict[str, Any], expected: type) -> None:
    with pytest.raises(expected) as caught:
        decode(200, body)
    assert type(caught.value) is expected
    assert caught.value.name == str(body["status"])  # type: ignore[attr-defined]
    message = body["message"]
    assert (message if isinstance(message, str) else message["message"]) in str(caught.value)


@pytest.mark.parametrize("code", ["5400", "5900"])
async def test_legacy_database_or_unknown_failure_on_an_order_may_have_acted(
    code: str, api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.post("/v2/orders").respond(200, json={"status": code, "message": "Unknown"})
    with pytest.raises(ExchangeUnavailable) as caught:
        await make_client().place_order(limit_buy())
    assert caught.value.name == code and not caught.value.safe_to_retry
    assert route.call_count == 1


# --- text and HTML bodies -------------------------------------------------------------


async def test_html_502_on_place_order_is_unavailable_not_retried_and_keeps_the_text(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    route = api.post("/v2/orders").respond(
        502, content=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        headers={"Content-Type": "text/html"})
    with pytest.raises(ExchangeUnavailable) as caught:
        await make_client().place_order(limit_buy())
    assert caught.value.status == 502 and "502 Bad Gateway" in str(caught.value)
    assert not caught.value.safe_to_retry
    assert route.call_count == 1


@pytest.mark.parametrize(("status", "expected"), [(400, ExchangeRejected),
                                                   (503, ExchangeUnavailable)])
def test_a_json_error_without_error_object_keeps_its_text(status: int, expected: type) -> None:
    with pytest.raises(expected) as caught:
        decode(status, {"msg": "service paused"})
    assert "service paused" in str(caught.value)


def test_a_body_nested_too_deep_is_not_json_not_a_crash() -> None:
    response = httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(UnexpectedResponse, match="not JSON"):
        decode_answer(response, where="GET /v1/accounts", idempotent=True, now=NOW)


# --- impossible numbers ---------------------------------------------------------------


@pytest.mark.parametrize("balance", ["1e40", "NaN", "Infinity", "-1", "-0.5", "abc", "",
                                     "sNaN", "1e-999999999", Decimal("1e40"), 10**40, True])
def test_a_balance_that_cannot_be_real_is_a_typed_error_naming_the_field(
    balance: Any
) -> None:
    with pytest.raises(ImplausibleNumber) as caught:
        parsing.parse_balances(accounts_with(balance))
    assert caught.value.field == "account.balance"
    assert "'balance'" in str(caught.value)
    assert isinstance(caught.value, UnexpectedResponse)


@pytest.mark.parametrize("number", [b"1e40", b"NaN", b"Infinity", b"-Infinity", b"-1"])
async def test_accounts_answer_with_an_impossible_number_is_a_typed_error(
    number: bytes, api: respx.MockRouter, make_client: ClientFactory
) -> None:
    body = b'[{"currency": "BTC", "balance": ' + number + b', "locked": "0"}]'
    api.get("/v1/accounts").respond(200, content=body)
    with pytest.raises(ImplausibleNumber, match="balance"):
        await make_client(max_retries=0).accounts()


@pytest.mark.parametrize("text", ["1e15", "1e-20", "0", "-0", "0E-8", "0.00000001"])
def test_numbers_at_the_bounds_are_accepted(text: str) -> None:
    (balance,) = parsing.parse_balances([{"currency": "KRW", "balance": text}])
    assert balance.balance == Decimal(text)


@pytest.mark.parametrize(("field", "value"), [
    ("executed_volume", "-1"), ("paid_fee", "NaN"), ("price", "1e16"),
])
def test_order_numbers_are_checked_too(field: str, value: str) -> None:
    with pytest.raises(ImplausibleNumber) as caught:
        parsing.parse_order({**load("v1_order_get_with_trades.json"), field: value})
    assert caught.value.field == f"order.{field}"


def test_a_signed_change_rate_may_be_negative_but_not_huge() -> None:
    ticker = {"market": "KRW-BTC", "trade_price": 1, "signed_change_rate": "-0.5"}
    assert parsing.parse_ticker(ticker, NOW).change_rate == Decimal("-0.5")
    with pytest.raises(ImplausibleNumber):
        parsing.parse_ticker({**ticker, "signed_change_rate": "-1e20"}, NOW)


@pytest.mark.parametrize("millis", [-1, 10**30])
def test_a_timestamp_off_the_calendar_is_a_typed_error(millis: int) -> None:
    with pytest.raises(ImplausibleNumber, match="timestamp"):
        parsing.parse_ticker({"market": "KRW-BTC", "trade_price": 1, "timestamp": millis},
                             NOW)


def test_an_order_time_off_the_calendar_is_a_typed_error() -> None:
    order = {**load("v1_order_get_with_trades.json"), "created_at": "0001-01-01T00:00:00+09:00"}
    with pytest.raises(UnexpectedResponse, match="created_at"):
        parsing.parse_order(order)


# --- order states we do not know ------------------------------------------------------


@pytest.mark.parametrize("state", ["pending", "trade", "DONE", "", "unknown", 7])
def test_an_unknown_order_state_is_unknown_never_open(state: Any) -> None:
    order = parsing.parse_order({**load("v1_order_get_with_trades.json"), "state": state})
    assert order.state is OrderState.UNKNOWN
    assert not order.state.is_final
    assert order.executed_volume == Decimal(1)  # the fills reported are still kept


async def test_get_order_with_an_unknown_state_is_unknown(
    api: respx.MockRouter, make_client: ClientFactory
) -> None:
    body = {**load("v1_order_get_with_trades.json"), "state": "trade"}
    api.get("/v1/order").respond(200, content=json.dumps(body, default=str).encode())
    order = await make_client().get_order(order_id="C0101000000001799231")
    assert order.state is OrderState.UNKNOWN
    assert order.executed_volume == Decimal(1)
