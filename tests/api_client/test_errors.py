"""Every error shape Bithumb (or the network) produces, mapped to the typed errors."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from bithumb_llm_trader.api_client.errors import (
    decode_answer,
    parse_retry_after,
    transport_error,
)
from bithumb_llm_trader.domain import UTC
from bithumb_llm_trader.errors import (
    AuthError,
    ExchangeRejected,
    ExchangeUnavailable,
    NetworkError,
    OrderNotFound,
    OrderNotReady,
    RateLimitError,
    RejectedError,
    RetryableError,
    StopError,
    UnexpectedResponse,
)

from .conftest import raw

NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
WHERE = "GET /v1/order"


def answer(status: int, body: Any = None, *, content: bytes | None = None,
           headers: dict[str, str] | None = None) -> httpx.Response:
    data = content if content is not None else json.dumps(body).encode()
    return httpx.Response(status, content=data, headers=headers)


def error(name: object, message: str = "설명") -> dict[str, Any]:
    return {"error": {"name": name, "message": message}}


def decode(response: httpx.Response, *, idempotent: bool = True) -> Any:
    return decode_answer(response, where=WHERE, idempotent=idempotent, now=NOW)


def test_a_good_answer_is_decoded_with_exact_decimals() -> None:
    payload = decode(answer(200, content=b'[{"trade_price": 0.1}]'))
    assert str(payload[0]["trade_price"]) == "0.1"
    assert not isinstance(payload[0]["trade_price"], float)


def test_4xx_with_error_body_is_rejected_with_name_status_and_message() -> None:
    with pytest.raises(ExchangeRejected) as caught:
        decode(answer(400, error("invalid_price_bid", "주문 가격 단위가 잘못되었습니다.")))
    exc = caught.value
    assert (exc.status, exc.name) == (400, "invalid_price_bid")
    assert "invalid_price_bid" in str(exc) and "주문 가격" in str(exc) and WHERE in str(exc)
    assert isinstance(exc, RejectedError) and not exc.retryable


def test_official_error_template_is_rejected() -> None:
    with pytest.raises(ExchangeRejected) as caught:
        decode(answer(400, content=raw("error_format_official.json")))
    assert caught.value.name == "<오류 코드>"


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_errors(status: int) -> None:
    with pytest.raises(AuthError) as caught:
        decode(answer(status, content=raw("error_401_jwt_verification.json")))
    assert (caught.value.status, caught.value.name) == (status, "jwt_verification")
    assert isinstance(caught.value, StopError)


def test_order_not_found_is_its_own_error() -> None:
    with pytest.raises(OrderNotFound) as caught:
        decode(answer(404, error("order_not_found", "주문을 찾지 못했습니다.")))
    assert caught.value.status == 404


def test_a_404_without_that_name_is_a_plain_rejection() -> None:
    with pytest.raises(ExchangeRejected) as caught:
        decode(answer(404, content=b"<html>Not Found</html>"))
    assert type(caught.value) is ExchangeRejected
    assert caught.value.name is None
    assert "Not Found" in str(caught.value)


def test_order_not_ready_is_retryable_never_not_found() -> None:
    with pytest.raises(OrderNotReady) as caught:
        decode(answer(422, error("order_not_ready")))
    assert not isinstance(caught.value, OrderNotFound)
    assert caught.value.retryable and caught.value.safe_to_retry


@pytest.mark.parametrize(("body", "expected"), [
    (error("invalid_parameter"), ExchangeRejected),
    (error("order_not_found"), OrderNotFound),
    (error("expired_jwt"), AuthError),
    (error("order_not_ready"), OrderNotReady),
    ({"error": "blocked"}, ExchangeRejected),
])
def test_a_2xx_carrying_an_error_is_still_an_error(body: Any, expected: type) -> None:
    with pytest.raises(expected) as caught:
        decode(answer(200, body))
    assert caught.value.status == 200  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [200, 400])
def test_a_numeric_error_name_is_kept_as_text(status: int) -> None:
    with pytest.raises(ExchangeRejected) as caught:
        decode(answer(status, error(5600, "잠시 후 다시 시도")))
    assert caught.value.name == "5600"
    assert "5600" in str(caught.value)


def test_non_json_2xx_is_unexpected_and_carries_idempotence() -> None:
    with pytest.raises(UnexpectedResponse) as caught:
        decode(answer(200, content=b"<html>maintenance</html>"), idempotent=False)
    exc = caught.value
    assert exc.status == 200 and "maintenance" in str(exc)
    assert exc.retryable and not exc.safe_to_retry


def test_non_json_5xx_is_unavailable() -> None:
    with pytest.raises(ExchangeUnavailable) as caught:
        decode(answer(502, content=b"<html>Bad Gateway</html>"))
    assert (caught.value.status, caught.value.name) == (502, None)
    assert caught.value.safe_to_retry


def test_5xx_with_error_body_keeps_the_name() -> None:
    with pytest.raises(ExchangeUnavailable) as caught:
        decode(answer(503, error("server_error")), idempotent=False)
    assert caught.value.name == "server_error"
    assert caught.value.retryable and not caught.value.safe_to_retry


def test_429_reads_retry_after_seconds() -> None:
    with pytest.raises(RateLimitError) as caught:
        decode(answer(429, error("too_many_requests"), headers={"Retry-After": "3"}))
    assert caught.value.retry_after == 3.0
    assert caught.value.safe_to_retry


def test_429_without_body_or_header() -> None:
    with pytest.raises(RateLimitError) as caught:
        decode(answer(429, content=b""), idempotent=False)
    assert caught.value.retry_after is None
    assert not caught.value.safe_to_retry


def test_retry_after_forms() -> None:
    assert parse_retry_after("2.5", NOW) == 2.5
    assert parse_retry_after("Wed, 01 Apr 2026 03:00:10 GMT", NOW) == 10.0
    assert parse_retry_after("Wed, 01 Apr 2026 02:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("inf", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_a_4xx_json_without_error_object_is_still_rejected() -> None:
    with pytest.raises(ExchangeRejected) as caught:
        decode(answer(400, {"message": "bad"}))
    assert caught.value.status == 400


def request() -> httpx.Request:
    return httpx.Request("POST", "https://api.bithumb.com/v2/orders")


@pytest.mark.parametrize("fault", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_connect_faults_were_not_sent_so_even_a_post_is_safe_to_retry(fault: type) -> None:
    exc = transport_error("POST /v2/orders", fault("refused", request=request()),
                          idempotent=False)
    assert isinstance(exc, NetworkError)
    assert exc.request_sent is False
    assert exc.safe_to_retry
    assert "not sent" in str(exc)


@pytest.mark.parametrize("fault", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError,
                                   httpx.RemoteProtocolError])
def test_faults_after_sending_may_have_acted(fault: type) -> None:
    exc = transport_error("POST /v2/orders", fault("lost", request=request()),
                          idempotent=False)
    assert exc.request_sent is True
    assert isinstance(exc, RetryableError) and exc.retryable
    assert not exc.safe_to_retry
    idempotent = transport_error("GET /v1/ticker", fault("lost", request=request()),
                                 idempotent=True)
    assert idempotent.safe_to_retry


def test_timeouts_say_so() -> None:
    exc = transport_error("GET /v1/ticker", httpx.ReadTimeout("", request=request()),
                          idempotent=True)
    assert "timed out" in str(exc) and "ReadTimeout" in str(exc)
