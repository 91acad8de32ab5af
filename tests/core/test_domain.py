from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bithumb_llm_trader.domain import (
    Market,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
    parse_duration,
    round_price,
    round_volume,
    tick_size,
    to_decimal,
)
from bithumb_llm_trader.errors import InvalidOrder

D = Decimal


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        ("0.5", "0.0001"), ("9.99", "0.001"), ("99", "0.01"), ("100", "1"), ("4999", "1"),
        ("5000", "5"), ("9999", "5"), ("10000", "10"), ("49999", "10"), ("50000", "50"),
        ("99999", "50"), ("100000", "100"), ("499999", "100"), ("500000", "500"),
        ("999999", "500"), ("1000000", "1000"), ("150803000", "1000"),
    ],
)
def test_krw_tick_table_matches_api_notes(price: str, tick: str) -> None:
    assert tick_size(D(price)) == D(tick)


def test_round_price_never_in_the_traders_disfavour() -> None:
    assert round_price(D("150803456.7"), Side.BUY) == D("150803000")
    assert round_price(D("150803456.7"), Side.SELL) == D("150804000")
    assert round_price(D("12347"), Side.BUY) == D("12340")
    assert round_price(D("12341"), Side.SELL) == D("12350")
    assert round_price(D("0.123456"), Side.BUY) == D("0.1234")
    # Crossing a band edge upwards lands on a price valid in the next band.
    assert round_price(D("999999"), Side.SELL) == D("1000000")


@given(st.decimals(min_value=D("0.0001"), max_value=D("10000000000"), places=6))
def test_rounded_prices_sit_on_their_tick(price: Decimal) -> None:
    for side in Side:
        rounded = round_price(price, side)
        assert rounded % tick_size(rounded) == 0
        assert (rounded <= price) if side is Side.BUY else (rounded >= price)


def test_round_volume_truncates_to_eight_decimals() -> None:
    assert round_volume(D("0.123456789")) == D("0.12345678")
    assert round_volume(D("1")) == D("1.00000000")


def test_to_decimal_refuses_floats_and_non_finite() -> None:
    assert to_decimal("0.1") == D("0.1")
    assert to_decimal(5) == D(5)
    with pytest.raises(TypeError):
        to_decimal(0.1)
    with pytest.raises(ValueError):
        to_decimal("NaN")
    with pytest.raises(ValueError):
        to_decimal("abc")


def test_market_ids_parse_quote_first() -> None:
    market = Market.parse("krw-btc")
    assert (market.quote, market.base, str(market)) == ("KRW", "BTC", "KRW-BTC")
    with pytest.raises(ValueError):
        Market.parse("KRWBTC")


def test_order_requests_are_checked_before_sending() -> None:
    market = Market.parse("KRW-BTC")
    OrderRequest(market=market, side=Side.BUY, order_type=OrderType.MARKET,
                 client_order_id="a", notional=D(10000))
    with pytest.raises(InvalidOrder):
        OrderRequest(market=market, side=Side.BUY, order_type=OrderType.MARKET,
                     client_order_id="a", volume=D(1))
    with pytest.raises(InvalidOrder):
        OrderRequest(market=market, side=Side.SELL, order_type=OrderType.LIMIT,
                     client_order_id="a", volume=D(1))
    with pytest.raises(InvalidOrder):
        OrderRequest(market=market, side=Side.SELL, order_type=OrderType.MARKET,
                     client_order_id="", volume=D(1))
    with pytest.raises(InvalidOrder):
        OrderRequest(market=market, side=Side.SELL, order_type=OrderType.MARKET,
                     client_order_id="a", volume=D("0.000000001"))


def test_final_order_states() -> None:
    assert OrderState.DONE.is_final and OrderState.NOT_SENT.is_final
    assert not OrderState.WAIT.is_final and not OrderState.UNKNOWN.is_final


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("7d", 604800), ("0m", 0), ("120", 120)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "m", "15x", "1.5h", "-5m"])
def test_parse_duration_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
