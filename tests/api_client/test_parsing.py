"""The pure wire -> domain functions, on fixture bodies and dicts built from API_NOTES."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from bithumb_llm_trader.api_client import parsing
from bithumb_llm_trader.domain import (
    UTC,
    Market,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from bithumb_llm_trader.errors import ExchangeRejected, UnexpectedResponse

from .conftest import assert_no_float, load

KRW_BTC = Market("KRW", "BTC")
RECEIVED = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


def candle(utc: str, close: int = 100) -> dict[str, Any]:
    """A candle built from the API_NOTES field list."""
    return {
        "market": "KRW-BTC", "candle_date_time_utc": utc,
        "candle_date_time_kst": "unused", "opening_price": 99, "high_price": 101,
        "low_price": Decimal("98.5"), "trade_price": close, "timestamp": 1,
        "candle_acc_trade_price": Decimal("12345.678"),
        "candle_acc_trade_volume": Decimal("1.23456789"), "unit": 1,
    }


def test_markets_from_the_official_fixture() -> None:
    assert parsing.parse_markets(load("v1_market_all.json")) == [KRW_BTC]


def test_partial_official_ticker_takes_received_time_when_timestamp_is_absent() -> None:
    [ticker] = parsing.parse_tickers(load("v1_ticker_partial_official.json"), RECEIVED)
    assert ticker.market == KRW_BTC
    assert ticker.last_price == Decimal(136500000)
    assert ticker.change_rate == Decimal("0.0202366864")
    assert ticker.volume_24h == Decimal("27181.31137002")
    assert ticker.timestamp == RECEIVED
    assert ticker.open_price is None
    assert_no_float(ticker)


def test_full_ticker_reads_every_documented_field() -> None:
    item = {
        "market": "KRW-ETH", "trade_price": Decimal("4100000.5"), "opening_price": 4000000,
        "high_price": 4200000, "low_price": 3900000, "prev_closing_price": 4000000,
        "signed_change_rate": Decimal("-0.01"), "acc_trade_volume_24h": Decimal("10.5"),
        "acc_trade_price_24h": Decimal("43000000.25"), "timestamp": 1711940400123,
    }
    ticker = parsing.parse_ticker(item, RECEIVED)
    assert ticker.timestamp == datetime(2024, 4, 1, 3, 0, 0, 123000, tzinfo=UTC)
    assert (ticker.open_price, ticker.high_price, ticker.low_price, ticker.prev_close) == (
        Decimal(4000000), Decimal(4200000), Decimal(3900000), Decimal(4000000))
    assert ticker.value_24h == Decimal("43000000.25")
    assert ticker.change_rate == Decimal("-0.01")


def test_orderbook_fixture() -> None:
    [book] = parsing.parse_orderbooks(load("v1_orderbook.json"))
    assert book.market == KRW_BTC
    assert book.best_ask == Decimal(45831000)
    assert book.best_bid == Decimal(45830000)
    assert book.asks[0].size == Decimal("0.123")
    assert book.timestamp == datetime(2023, 10, 24, 5, 35, 44, 837000, tzinfo=UTC)
    assert_no_float(book)


def test_orderbook_sorts_asks_ascending_and_bids_descending() -> None:
    units = [
        {"ask_price": 103, "bid_price": 97, "ask_size": 3, "bid_size": 3},
        {"ask_price": 101, "bid_price": 99, "ask_size": 1, "bid_size": 1},
        {"ask_price": 102, "bid_price": 98, "ask_size": 2, "bid_size": 2},
    ]
    book = parsing.parse_orderbook(
        {"market": "KRW-BTC", "timestamp": 0, "orderbook_units": units})
    assert [level.price for level in book.asks] == [101, 102, 103]
    assert [level.price for level in book.bids] == [99, 98, 97]
    assert [level.size for level in book.bids] == [1, 2, 3]


def test_candle_start_is_aware_utc_and_close_is_trade_price() -> None:
    [newest, oldest] = parsing.parse_candles(
        [candle("2024-01-01T00:01:00", close=105), candle("2024-01-01T00:00:00")])
    assert newest.start == datetime(2024, 1, 1, 0, 1, tzinfo=UTC)
    assert oldest.start.tzinfo is not None and oldest.start.utcoffset() == UTC.utcoffset(None)
    assert newest.close == Decimal(105)
    assert oldest.low == Decimal("98.5")
    assert oldest.volume == Decimal("1.23456789")
    assert oldest.value == Decimal("12345.678")
    assert_no_float([newest, oldest])


@pytest.mark.parametrize("text", ["2024-07-09T16:32:23+09:00", "2024-07-09T07:32:23Z",
                                  "2024-07-09T16:32:23.000+09:00", "2024-07-09T16:32:23"])
def test_order_times_become_aware_utc(text: str) -> None:
    order = parsing.parse_order({**load("v1_order_get_with_trades.json"), "created_at": text})
    assert order.created_at == datetime(2024, 7, 9, 7, 32, 23, tzinfo=UTC)


def test_trades_map_ask_bid_to_the_taker_side() -> None:
    ticks = parsing.parse_trades([
        {"market": "KRW-BTC", "trade_date_utc": "2024-04-01", "trade_time_utc": "03:00:00",
         "timestamp": 1711940400000, "trade_price": 95000000, "trade_volume": Decimal("0.01"),
         "prev_closing_price": 94000000, "change_price": 1000000, "ask_bid": "ASK",
         "sequential_id": 17119404000000001},
        {"market": "KRW-BTC", "timestamp": 1711940399000, "trade_price": 95001000,
         "trade_volume": Decimal("0.5"), "ask_bid": "BID", "sequential_id": 17119403990000001},
    ])
    assert [tick.side for tick in ticks] == [Side.SELL, Side.BUY]
    assert ticks[0].sequential_id == "17119404000000001"
    assert ticks[0].price == Decimal(95000000)
    assert ticks[1].volume == Decimal("0.5")
    assert ticks[0].timestamp == datetime(2024, 4, 1, 3, 0, tzinfo=UTC)


def test_balances_fixture() -> None:
    balances = parsing.parse_balances(load("v1_accounts.json"))
    assert [b.currency for b in balances] == ["KRW", "BTC", "ETH"]
    krw = balances[0]
    assert krw.balance == Decimal("10981650.10635")
    assert krw.locked == Decimal(98246)
    assert balances[1].avg_buy_price == Decimal(36340973)
    assert_no_float(balances)


def test_order_chance_fixture() -> None:
    chance = parsing.parse_order_chance(load("v1_orders_chance.json"))
    assert chance.market == Market("BTC", "ETH")
    assert chance.bid_fee == chance.ask_fee == Decimal("0.0025")
    assert chance.maker_bid_fee == chance.maker_ask_fee == Decimal("0.0025")
    assert chance.min_total == Decimal("0.0005")  # market.bid.min_total
    assert chance.max_total == Decimal(5)
    assert chance.bid_types == ("limit", "price")
    assert chance.ask_types == ("limit", "market")
    assert chance.state == "active"
    assert_no_float(chance)


def test_order_with_trades_fixture() -> None:
    order = parsing.parse_order(load("v1_order_get_with_trades.json"))
    assert order.order_id == "C0101000000001799231"
    assert (order.market, order.side, order.order_type) == (KRW_BTC, Side.BUY, OrderType.LIMIT)
    assert order.state is OrderState.DONE
    assert order.created_at == datetime(2024, 7, 9, 7, 32, 23, tzinfo=UTC)
    assert (order.price, order.volume) == (Decimal(83000000), Decimal(1))
    assert order.executed_volume == Decimal(1)
    assert order.executed_funds == Decimal(83000000)
    assert order.paid_fee == Decimal(207500)
    assert order.remaining_volume == 0
    assert order.average_price == Decimal(83000000)
    [fill] = order.fills
    assert fill.trade_id == "C0101000000001713006"
    assert (fill.price, fill.volume, fill.funds) == (
        Decimal(83000000), Decimal(1), Decimal(83000000))
    assert fill.created_at == order.created_at
    assert fill.fee is None
    assert_no_float(order)


def test_orders_list_fixture() -> None:
    orders = parsing.parse_orders(load("v1_orders_list.json"))
    assert [o.order_id for o in orders] == ["C0101000000001799625", "C0661000000000760010"]
    assert all(o.state is OrderState.WAIT for o in orders)
    gmt = orders[1]
    assert gmt.market == Market("KRW", "GMT")
    assert (gmt.remaining_volume, gmt.executed_volume, gmt.paid_fee) == (
        Decimal(11), Decimal(5), Decimal("0.52"))
    assert gmt.fills == ()


@pytest.mark.parametrize(("wire", "expected"), [
    ("limit", OrderType.LIMIT), ("price", OrderType.MARKET), ("market", OrderType.MARKET),
])
def test_order_types_from_the_wire(wire: str, expected: OrderType) -> None:
    assert parsing.order_type_from_wire(wire) is expected


def test_market_buy_order_reports_the_krw_total_as_price_and_no_volume() -> None:
    item = {"uuid": "C1", "side": "bid", "ord_type": "price", "price": "50000",
            "state": "done", "market": "KRW-BTC", "created_at": "2026-04-01T12:00:00+09:00",
            "volume": None, "remaining_volume": None, "executed_volume": "0.0005",
            "paid_fee": "20", "trades": [
                {"uuid": "T1", "price": "60000000", "volume": "0.0003", "funds": "18000",
                 "created_at": "2026-04-01T12:00:00+09:00"},
                {"uuid": "T2", "price": "64000000", "volume": "0.0002", "funds": "12800",
                 "created_at": "2026-04-01T12:00:01+09:00"}]}
    order = parsing.parse_order(item)
    assert order.order_type is OrderType.MARKET
    assert order.price == Decimal(50000)
    assert order.volume is None
    assert order.remaining_volume == 0
    # executed_funds absent: summed from the fills rather than left at zero
    assert order.executed_funds == Decimal(30800)
    assert order.average_price == Decimal("61600000.00000000")


def test_unknown_order_type_is_unexpected() -> None:
    base = load("v1_order_get_with_trades.json")
    with pytest.raises(UnexpectedResponse, match="order type"):
        parsing.parse_order({**base, "ord_type": "stop_limit"})


def limit_request() -> OrderRequest:
    return OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.LIMIT,
                        client_order_id="20260106-test00", price=Decimal(95000000),
                        volume=Decimal("0.001"))


def test_v2_placement_answer_is_a_waiting_order_with_both_ids() -> None:
    answer = load("v2_orders_batch.json")["batch_orders_response"][0]
    order = parsing.parse_placed_order(answer, limit_request(), RECEIVED)
    assert order.order_id == "C0101000007410713262"
    assert order.client_order_id == "20260106-test00"
    assert order.state is OrderState.WAIT
    assert order.created_at == datetime(2026, 1, 6, 3, 8, 11, tzinfo=UTC)
    assert (order.price, order.volume, order.remaining_volume) == (
        Decimal(95000000), Decimal("0.001"), Decimal("0.001"))
    assert order.executed_volume == 0 and order.fills == ()


def test_v2_placement_without_created_at_uses_the_receive_time() -> None:
    order = parsing.parse_placed_order({"order_id": "C9"}, limit_request(), RECEIVED)
    assert order.created_at == RECEIVED
    assert order.client_order_id == "20260106-test00"


def test_market_buy_placement_keeps_the_notional_as_price() -> None:
    request = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.MARKET,
                           client_order_id="c-1", notional=Decimal(50000))
    order = parsing.parse_placed_order({"order_id": "C9"}, request, RECEIVED)
    assert (order.price, order.volume, order.order_type) == (
        Decimal(50000), None, OrderType.MARKET)


def test_v1_shaped_placement_answer_is_parsed_in_full() -> None:
    answer = load("v1_order_get_with_trades.json")
    order = parsing.parse_placed_order(answer, limit_request(), RECEIVED)
    assert order.state is OrderState.DONE
    assert order.executed_volume == Decimal(1)
    assert order.client_order_id == "20260106-test00"  # taken from the request
    assert len(order.fills) == 1


def test_element_error_in_a_placement_answer_is_a_rejection() -> None:
    answer = load("v2_orders_batch.json")["batch_orders_response"][1]
    with pytest.raises(ExchangeRejected) as caught:
        parsing.parse_placed_order(answer, limit_request(), RECEIVED)
    assert caught.value.name == "cross_trading"


def test_missing_field_names_the_field() -> None:
    with pytest.raises(UnexpectedResponse, match="'trade_price' missing"):
        parsing.parse_ticker({"market": "KRW-BTC"}, RECEIVED)


def test_a_float_is_refused_not_rounded() -> None:
    with pytest.raises(UnexpectedResponse, match="trade_price"):
        parsing.parse_ticker({"market": "KRW-BTC", "trade_price": 0.1}, RECEIVED)


@pytest.mark.parametrize("payload", [{}, "text", None, 5])
def test_list_answers_must_be_lists(payload: object) -> None:
    with pytest.raises(UnexpectedResponse, match="expected a list"):
        parsing.parse_markets(payload)


def test_wrong_kinds_are_unexpected() -> None:
    with pytest.raises(UnexpectedResponse, match="expected an object"):
        parsing.parse_markets(["KRW-BTC"])
    with pytest.raises(UnexpectedResponse, match="market"):
        parsing.parse_markets([{"market": "BTC"}])
    with pytest.raises(UnexpectedResponse, match="milliseconds"):
        parsing.parse_orderbook({"market": "KRW-BTC", "timestamp": "x", "orderbook_units": []})
    with pytest.raises(UnexpectedResponse, match="ISO-8601"):
        parsing.parse_candle(candle("yesterday"))
    with pytest.raises(UnexpectedResponse, match="bid or ask"):
        parsing.parse_trade({"market": "KRW-BTC", "timestamp": 0, "trade_price": 1,
                             "trade_volume": 1, "ask_bid": "SELL", "sequential_id": 1})


def test_select_market_finds_the_matching_element_or_fails() -> None:
    tickers = parsing.parse_tickers(
        [{"market": "KRW-ETH", "trade_price": 1}, {"market": "KRW-BTC", "trade_price": 2}],
        RECEIVED)
    assert parsing.select_market(tickers, KRW_BTC, "ticker").last_price == 2
    with pytest.raises(UnexpectedResponse, match="KRW-XRP"):
        parsing.select_market(tickers, Market("KRW", "XRP"), "ticker")
