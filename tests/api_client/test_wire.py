"""Domain values -> wire text: plain numbers, naive KST times, order bodies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bithumb_llm_trader.api_client.wire import kst_param, order_body, plain_decimal
from bithumb_llm_trader.domain import UTC, Market, OrderRequest, OrderType, Side

KRW_BTC = Market("KRW", "BTC")


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("1E+8"), "100000000"),
    (Decimal("83000000"), "83000000"),
    (Decimal("83000000.0"), "83000000"),
    (Decimal("1E-8"), "0.00000001"),
    (Decimal("0.00012300"), "0.000123"),
    (Decimal("0.10"), "0.1"),
    (Decimal("0E-8"), "0"),
    (Decimal("5000"), "5000"),
])
def test_plain_decimal_never_uses_exponent_form(value: Decimal, text: str) -> None:
    assert plain_decimal(value) == text


def test_plain_decimal_refuses_non_finite() -> None:
    with pytest.raises(ValueError, match="finite"):
        plain_decimal(Decimal("NaN"))


def test_kst_param_is_naive_kst_without_offset() -> None:
    assert kst_param(datetime(2024, 1, 1, 0, 0, tzinfo=UTC)) == "2024-01-01T09:00:00"
    new_york = timezone(timedelta(hours=-5))
    assert kst_param(datetime(2024, 1, 1, 10, 30, tzinfo=new_york)) == "2024-01-02T00:30:00"


def test_kst_param_rounds_a_partial_second_up() -> None:
    moment = datetime(2024, 1, 1, 0, 0, 59, 1, tzinfo=UTC)
    assert kst_param(moment) == "2024-01-01T09:01:00"


def test_kst_param_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        kst_param(datetime(2024, 1, 1))


def test_limit_body() -> None:
    request = OrderRequest(KRW_BTC, Side.BUY, OrderType.LIMIT, "cid-1",
                           volume=Decimal("0.00010000"), price=Decimal("9.5E+7"))
    body = order_body(request)
    assert body == {"market": "KRW-BTC", "side": "bid", "order_type": "limit",
                    "price": "95000000", "volume": "0.0001", "client_order_id": "cid-1"}
    assert list(body) == ["market", "side", "order_type", "price", "volume", "client_order_id"]


def test_market_buy_body_sends_the_krw_total_as_price() -> None:
    request = OrderRequest(KRW_BTC, Side.BUY, OrderType.MARKET, "cid-2",
                           notional=Decimal("50000"))
    assert order_body(request) == {"market": "KRW-BTC", "side": "bid", "order_type": "price",
                                   "price": "50000", "client_order_id": "cid-2"}


def test_market_sell_body_sends_the_volume() -> None:
    request = OrderRequest(KRW_BTC, Side.SELL, OrderType.MARKET, "cid-3",
                           volume=Decimal("1E-8"))
    assert order_body(request) == {"market": "KRW-BTC", "side": "ask", "order_type": "market",
                                   "volume": "0.00000001", "client_order_id": "cid-3"}
