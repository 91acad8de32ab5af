"""Pure functions from Bithumb's decoded JSON to domain objects.

No I/O here, so every wire shape is tested on plain dicts. Payloads must come from
``json.loads(..., parse_float=Decimal)``: a float anywhere is refused rather than turned
into an inexact price. A missing field or a value of the wrong kind raises
``UnexpectedResponse`` naming the field, instead of a bare KeyError far from the cause; a
number that cannot be real (NaN, 1e40, a negative balance) raises ``ImplausibleNumber``.
An order state we do not know is ``OrderState.UNKNOWN``: never read as still open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from ..domain import (
    KST,
    UTC,
    ZERO,
    Balance,
    Candle,
    Fill,
    Level,
    Market,
    Order,
    Orderbook,
    OrderChance,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
    Ticker,
    TradeTick,
    to_decimal,
)
from ..errors import ExchangeRejected, ImplausibleNumber, UnexpectedResponse
from .endpoints import WIRE_LIMIT, WIRE_MARKET_TYPES

MAX_EXCHANGE_NUMBER = Decimal("1e15")
"""The largest magnitude any number from the exchange may have, like the config's
``MAX_KRW``: far above any real balance, price or volume, and small enough that amounts
quantized to 1e-8 keep within ``Decimal``'s 28 digits instead of raising InvalidOperation."""
MIN_EXCHANGE_MAGNITUDE = Decimal("1e-20")
"""The smallest non-zero magnitude accepted: far below any real fee rate or volume step,
and dividing by it cannot overflow ``Decimal`` (``1e-999999999`` would)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last datetime can hold
_EXCHANGE_STATES = MappingProxyType({
    state.value: state
    for state in (OrderState.WAIT, OrderState.WATCH, OrderState.DONE, OrderState.CANCEL)
})


class _Fields:
    """Typed access to one JSON object, with errors that say which field was wrong."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, Mapping):
            raise UnexpectedResponse(f"{what}: expected an object, got {type(data).__name__}")
        self._data: Mapping[str, Any] = data
        self._what = what

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def raw(self, key: str) -> Any:
        value = self._data.get(key)
        if value is None:
            raise self.error(key, "missing")
        return value

    def error(self, key: str, problem: str) -> UnexpectedResponse:
        return UnexpectedResponse(f"{self._what}: field {key!r} {problem}")

    def text(self, key: str) -> str:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(key, f"is not text: {value!r}")
        return str(value)

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def first_text(self, *keys: str) -> str:
        """The first of ``keys`` present: v1 and v2 answers name some fields differently."""
        for key in keys:
            if self.has(key):
                return self.text(key)
        raise self.error(" or ".join(keys), "missing")

    def texts(self, key: str) -> tuple[str, ...]:
        return tuple(str(item) for item in self.items(key)) if self.has(key) else ()

    def decimal(self, key: str, *, signed: bool = False) -> Decimal:
        """A finite number within ``MAX_EXCHANGE_NUMBER``; below zero only if ``signed``."""
        value = self.raw(key)
        try:
            number = to_decimal(value, f"{self._what}.{key}")
        except (TypeError, ValueError) as exc:
            raise self.implausible(key, f"is not an exact finite number ({exc})") from exc
        if abs(number) > MAX_EXCHANGE_NUMBER:
            raise self.implausible(key, f"is beyond {MAX_EXCHANGE_NUMBER:,f}: {value!r}"[:200])
        if number and abs(number) < MIN_EXCHANGE_MAGNITUDE:
            raise self.implausible(key, f"is below {MIN_EXCHANGE_MAGNITUDE}: {value!r}"[:200])
        if number < 0 and not signed:
            raise self.implausible(key, f"is negative: {value!r}"[:200])
        return number

    def opt_decimal(self, key: str, *, signed: bool = False) -> Decimal | None:
        return self.decimal(key, signed=signed) if self.has(key) else None

    def implausible(self, key: str, problem: str) -> ImplausibleNumber:
        return ImplausibleNumber(f"{self._what}: field {key!r} {problem}",
                                 field=f"{self._what}.{key}")

    def millis(self, key: str) -> datetime:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"is not integer milliseconds: {value!r}")
        if not 0 <= value <= _MAX_MILLIS:
            raise self.implausible(key, f"is not a time in milliseconds: {value!r}"[:200])
        return _EPOCH + timedelta(milliseconds=value)

    def time(self, key: str, naive_zone: timezone) -> datetime:
        """An ISO-8601 time as aware UTC; a time without offset is in ``naive_zone``."""
        text = self.text(key)
        try:  # Python 3.10's fromisoformat does not read a trailing "Z"
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError as exc:
            raise self.error(key, f"is not an ISO-8601 time: {text!r}") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=naive_zone)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:  # year 1 or 9999 pushed off the calendar
            raise self.error(key, f"is out of range: {text!r}") from exc

    def market(self, key: str) -> Market:
        try:
            return Market.parse(self.text(key))
        except ValueError as exc:
            raise self.error(key, str(exc)) from exc

    def side(self, key: str) -> Side:
        text = self.text(key).lower()
        try:
            return Side(text)
        except ValueError as exc:
            raise self.error(key, f"is not bid or ask: {text!r}") from exc

    def obj(self, key: str) -> _Fields:
        return _Fields(self.raw(key), f"{self._what}.{key}")

    def items(self, key: str) -> list[Any]:
        return _items(self.raw(key), f"{self._what}.{key}")


def _items(data: object, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise UnexpectedResponse(f"{what}: expected a list, got {type(data).__name__}")
    return data


def parse_markets(payload: object) -> list[Market]:
    """``GET /v1/market/all``: the market ids, e.g. ``KRW-BTC``."""
    return [_Fields(item, "market").market("market") for item in _items(payload, "markets")]


def parse_tickers(payload: object, received_at: datetime) -> list[Ticker]:
    """``GET /v1/ticker``; ``received_at`` stands in when an answer has no timestamp."""
    return [parse_ticker(item, received_at) for item in _items(payload, "tickers")]


def parse_ticker(item: object, received_at: datetime) -> Ticker:
    f = _Fields(item, "ticker")
    return Ticker(
        market=f.market("market"),
        last_price=f.decimal("trade_price"),
        timestamp=f.millis("timestamp") if f.has("timestamp") else received_at,
        open_price=f.opt_decimal("opening_price"),
        high_price=f.opt_decimal("high_price"),
        low_price=f.opt_decimal("low_price"),
        prev_close=f.opt_decimal("prev_closing_price"),
        change_rate=f.opt_decimal("signed_change_rate", signed=True),
        volume_24h=f.opt_decimal("acc_trade_volume_24h"),
        value_24h=f.opt_decimal("acc_trade_price_24h"),
    )


def parse_orderbooks(payload: object) -> list[Orderbook]:
    """``GET /v1/orderbook``: asks sorted ascending and bids descending, whatever the wire order."""
    return [parse_orderbook(item) for item in _items(payload, "orderbooks")]


def parse_orderbook(item: object) -> Orderbook:
    f = _Fields(item, "orderbook")
    asks: list[Level] = []
    bids: list[Level] = []
    for unit in f.items("orderbook_units"):
        u = _Fields(unit, "orderbook unit")
        asks.append(Level(price=u.decimal("ask_price"), size=u.decimal("ask_size")))
        bids.append(Level(price=u.decimal("bid_price"), size=u.decimal("bid_size")))
    return Orderbook(
        market=f.market("market"),
        timestamp=f.millis("timestamp"),
        asks=tuple(sorted(asks, key=lambda level: level.price)),
        bids=tuple(sorted(bids, key=lambda level: level.price, reverse=True)),
    )


def parse_candles(payload: object) -> list[Candle]:
    """``GET /v1/candles/...``, in the order sent (newest first); ``start`` is aware UTC."""
    return [parse_candle(item) for item in _items(payload, "candles")]


def parse_candle(item: object) -> Candle:
    f = _Fields(item, "candle")
    return Candle(
        start=f.time("candle_date_time_utc", UTC),
        open=f.decimal("opening_price"),
        high=f.decimal("high_price"),
        low=f.decimal("low_price"),
        close=f.decimal("trade_price"),
        volume=f.decimal("candle_acc_trade_volume"),
        value=f.opt_decimal("candle_acc_trade_price"),
    )


def parse_trades(payload: object) -> list[TradeTick]:
    """``GET /v1/trades/ticks``, in the order sent; ``ask_bid`` is the taker's side."""
    return [parse_trade(item) for item in _items(payload, "trades")]


def parse_trade(item: object) -> TradeTick:
    f = _Fields(item, "trade")
    return TradeTick(
        market=f.market("market"),
        timestamp=f.millis("timestamp"),
        price=f.decimal("trade_price"),
        volume=f.decimal("trade_volume"),
        side=f.side("ask_bid"),
        sequential_id=f.text("sequential_id"),
    )


def parse_balances(payload: object) -> list[Balance]:
    """``GET /v1/accounts``: one balance per currency, decimals sent as strings."""
    balances = []
    for item in _items(payload, "accounts"):
        f = _Fields(item, "account")
        balances.append(Balance(
            currency=f.text("currency").upper(),
            balance=f.decimal("balance"),
            locked=f.opt_decimal("locked") or ZERO,
            avg_buy_price=f.opt_decimal("avg_buy_price") or ZERO,
        ))
    return balances


def parse_order_chance(payload: object) -> OrderChance:
    """``GET /v1/orders/chance``: this account's fees and the market's order limits."""
    f = _Fields(payload, "order chance")
    market = f.obj("market")
    return OrderChance(
        market=market.market("id"),
        bid_fee=f.decimal("bid_fee"),
        ask_fee=f.decimal("ask_fee"),
        maker_bid_fee=f.decimal("maker_bid_fee"),
        maker_ask_fee=f.decimal("maker_ask_fee"),
        min_total=market.obj("bid").decimal("min_total"),
        max_total=market.opt_decimal("max_total"),
        bid_types=market.texts("bid_types"),
        ask_types=market.texts("ask_types"),
        state=market.opt_text("state") or "active",
    )


def order_type_from_wire(text: str) -> OrderType:
    """``limit`` is LIMIT; ``price`` (market buy), ``market`` (market sell), ``best`` MARKET."""
    if text == WIRE_LIMIT:
        return OrderType.LIMIT
    if text in WIRE_MARKET_TYPES:
        return OrderType.MARKET
    raise UnexpectedResponse(f"order: unknown order type {text!r}")


def parse_orders(payload: object) -> list[Order]:
    """``GET /v1/orders``: a list of orders in the v1 shape."""
    return [parse_order(item) for item in _items(payload, "orders")]


def parse_order(payload: object) -> Order:
    """An order in the v1 shape (``GET /v1/order``), with its trades as fills.

    For a market buy Bithumb reports the KRW total in ``price`` and no volume.
    """
    f = _Fields(payload, "order")
    fills = tuple(parse_fill(item) for item in f.items("trades")) if f.has("trades") else ()
    executed_funds = f.opt_decimal("executed_funds")
    if executed_funds is None:
        executed_funds = sum((fill.funds for fill in fills), ZERO)
    return Order(
        order_id=f.first_text("uuid", "order_id"),
        market=f.market("market"),
        side=f.side("side"),
        order_type=order_type_from_wire(f.first_text("ord_type", "order_type")),
        state=_order_state(f),
        created_at=f.time("created_at", KST),
        client_order_id=f.opt_text("client_order_id"),
        price=f.opt_decimal("price"),
        volume=f.opt_decimal("volume"),
        remaining_volume=f.opt_decimal("remaining_volume") or ZERO,
        executed_volume=f.opt_decimal("executed_volume") or ZERO,
        executed_funds=executed_funds,
        paid_fee=f.opt_decimal("paid_fee") or ZERO,
        fills=fills,
    )


def _order_state(f: _Fields) -> OrderState:
    """The exchange's state; one we do not know is UNKNOWN, never an open order.

    Reading an unknown word as "wait" would record an order the exchange may have filled
    as open and unfilled; UNKNOWN is not final, so it halts trading until reconciled.
    """
    return _EXCHANGE_STATES.get(f.text("state"), OrderState.UNKNOWN)


def parse_fill(item: object) -> Fill:
    """One entry of an order's ``trades``; Bithumb gives no per-trade fee."""
    f = _Fields(item, "order trade")
    return Fill(
        trade_id=f.text("uuid"),
        price=f.decimal("price"),
        volume=f.decimal("volume"),
        funds=f.decimal("funds"),
        created_at=f.time("created_at", KST),
    )


def parse_placed_order(payload: object, request: OrderRequest, received_at: datetime) -> Order:
    """The answer to ``POST /v2/orders`` as an ``Order``.

    The v2 answer only acknowledges (ids, market, side, type, time): the order is
    returned in state WAIT with what was asked. An answer in the v1 shape (with
    ``state``) is parsed in full. An element-style error (``name`` and ``message``
    without an ``order_id``) is a rejection.
    """
    f = _Fields(payload, "placed order")
    if f.has("state"):
        order = parse_order(payload)
        return order if order.client_order_id else replace(
            order, client_order_id=request.client_order_id)
    if not f.has("order_id") and f.has("name"):
        name = f.text("name")
        raise ExchangeRejected(
            f"Bithumb rejected order {request.client_order_id}: {name}: "
            f"{f.opt_text('message') or ''}",
            status=200, name=name,
        )
    return Order(
        order_id=f.text("order_id"),
        market=request.market,
        side=request.side,
        order_type=request.order_type,
        state=OrderState.WAIT,
        created_at=f.time("created_at", KST) if f.has("created_at") else received_at,
        client_order_id=f.opt_text("client_order_id") or request.client_order_id,
        price=request.notional if request.order_type is OrderType.MARKET else request.price,
        volume=request.volume,
        remaining_volume=request.volume or ZERO,
    )


class _AboutMarket(Protocol):
    @property
    def market(self) -> Market: ...


_T = TypeVar("_T", bound=_AboutMarket)


def select_market(items: Iterable[_T], market: Market, what: str) -> _T:
    """The element of a per-market list answer that is about ``market``."""
    for item in items:
        if item.market == market:
            return item
    raise UnexpectedResponse(f"{what}: the answer has nothing for {market}")
