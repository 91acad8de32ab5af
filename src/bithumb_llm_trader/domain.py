"""Frozen value objects for markets, orders and money.

Money and sizes are ``Decimal`` built from strings or integers, never from floats: a
float cannot hold 0.1 KRW exactly, and the exchange rejects prices off its tick.
Every exchange detail about increments lives here so a correction is one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, InvalidOperation
from enum import Enum

from .errors import InvalidOrder
from .fast_init import fast_init

KST = timezone(timedelta(hours=9), "KST")
UTC = timezone.utc
ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)

VOLUME_STEP = Decimal("0.00000001")
"""Coin quantities go to 8 decimals (API_NOTES: UNVERIFIED officially)."""

DEFAULT_MIN_ORDER_KRW = Decimal(5000)
"""Used only when ``/v1/orders/chance`` cannot be read (API_NOTES: about 5,000 KRW)."""

# (upper bound exclusive, tick) for KRW-quoted markets, from Bithumb's tick table.
_KRW_TICKS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(1), Decimal("0.0001")),
    (Decimal(10), Decimal("0.001")),
    (Decimal(100), Decimal("0.01")),
    (Decimal(5_000), Decimal(1)),
    (Decimal(10_000), Decimal(5)),
    (Decimal(50_000), Decimal(10)),
    (Decimal(100_000), Decimal(50)),
    (Decimal(500_000), Decimal(100)),
    (Decimal(1_000_000), Decimal(500)),
)
_KRW_TOP_TICK = Decimal(1_000)


def to_decimal(value: object, what: str = "value") -> Decimal:
    """Convert a wire or config value to a finite Decimal without passing through float.

    Strings, ints and Decimals are exact. A float is refused: by the time it exists the
    exactness is already lost, so the caller must parse JSON with ``parse_float=Decimal``.
    """
    if isinstance(value, (bool, float)):
        raise TypeError(f"{what}: refusing {type(value).__name__} {value!r}; use str or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation as exc:
            raise ValueError(f"{what}: not a number: {value!r}") from exc
    else:
        raise TypeError(f"{what}: expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what}: not finite: {value!r}")
    return result


class Mode(str, Enum):
    """How a process trades, chosen once and stamped on every row it writes.

    Nothing that decides reads rows of another mode: a dry run's paper wallet must never
    set a live run's daily loss baseline, nor a backtest's fills its cooldown.
    """

    DRY = "dry"
    LIVE = "live"
    BACKTEST = "backtest"

    @property
    def dry_run(self) -> bool:
        """True unless real orders go to the exchange."""
        return self is not Mode.LIVE


class Side(str, Enum):
    """Order side, valued as Bithumb spells it on the wire."""

    BUY = "bid"
    SELL = "ask"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, Enum):
    """What we ask for. The client maps a market buy to Bithumb's ``price`` type."""

    LIMIT = "limit"
    MARKET = "market"


class OrderState(str, Enum):
    """Exchange states (wait, watch, done, cancel) plus the ones only we know."""

    PENDING = "pending"  # recorded before sending; fate not yet known
    WAIT = "wait"
    WATCH = "watch"
    DONE = "done"
    CANCEL = "cancel"
    REJECTED = "rejected"  # the exchange refused it: nothing exists there
    NOT_SENT = "not_sent"  # looked up after a fault and confirmed absent
    UNKNOWN = "unknown"  # may exist; reconcile before trading again

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES


_FINAL_STATES = frozenset({OrderState.DONE, OrderState.CANCEL, OrderState.REJECTED,
                           OrderState.NOT_SENT})


class CandleInterval(str, Enum):
    """Candle sizes Bithumb serves."""

    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M10 = "10m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"
    W1 = "1w"
    MO1 = "1M"

    @property
    def minutes(self) -> int:
        """Length in minutes (a month counts as 30 days, for spacing only)."""
        return _INTERVAL_MINUTES[self]

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)


_INTERVAL_MINUTES = {
    CandleInterval.M1: 1, CandleInterval.M3: 3, CandleInterval.M5: 5,
    CandleInterval.M10: 10, CandleInterval.M15: 15, CandleInterval.M30: 30,
    CandleInterval.H1: 60, CandleInterval.H4: 240, CandleInterval.D1: 1440,
    CandleInterval.W1: 10080, CandleInterval.MO1: 43200,
}


@dataclass(frozen=True, slots=True)
class Market:
    """A spot market; ``str()`` gives Bithumb's id, quote first: ``KRW-BTC``."""

    quote: str
    base: str

    @classmethod
    def parse(cls, market_id: str) -> Market:
        quote, sep, base = market_id.strip().upper().partition("-")
        if not sep or not quote.isalnum() or not base.isalnum():
            raise ValueError(f"market id must look like KRW-BTC, got {market_id!r}")
        return cls(quote=quote, base=base)

    def __str__(self) -> str:
        return f"{self.quote}-{self.base}"


def tick_size(price: Decimal, quote: str = "KRW") -> Decimal:
    """The price increment at ``price`` for a market quoted in ``quote``."""
    if quote != "KRW":
        return Decimal("0.00000001")
    for bound, tick in _KRW_TICKS:
        if price < bound:
            return tick
    return _KRW_TOP_TICK


def round_price(price: Decimal, side: Side, quote: str = "KRW") -> Decimal:
    """Round a price onto the tick, never in the trader's disfavour.

    A buy rounds down (never pay more than asked), a sell rounds up (never sell for less).
    Every band edge is a multiple of the next band's tick, so crossing one stays valid.
    """
    if price <= 0:
        raise InvalidOrder(f"price must be positive, got {price}")
    tick = tick_size(price, quote)
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    steps = (price / tick).to_integral_value(rounding=rounding)
    rounded = steps * tick
    if rounded <= 0:  # a buy below the smallest tick
        rounded = tick
    return rounded.quantize(tick) if tick < 1 else rounded.quantize(ONE)


def round_volume(volume: Decimal) -> Decimal:
    """Round a coin quantity down to the exchange's 8-decimal step (never overspend)."""
    return volume.quantize(VOLUME_STEP, rounding=ROUND_DOWN)


def round_krw(amount: Decimal) -> Decimal:
    """Round a KRW amount down to whole won (market-buy totals are whole won)."""
    return amount.quantize(ONE, rounding=ROUND_DOWN)


PRICE_STEP = Decimal("0.00000001")
"""Average prices are quotients; keep 8 decimals so they store exactly everywhere."""


def average_price(funds: Decimal, volume: Decimal) -> Decimal | None:
    """Volume-weighted average price to 8 decimals, or None when nothing traded."""
    if volume == 0:
        return None
    return (funds / volume).quantize(PRICE_STEP)


def bps(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` in basis points, to 2 decimals; 0 when undefined."""
    if denominator == 0:
        return ZERO
    return (numerator / denominator * BPS).quantize(Decimal("0.01"))


@fast_init
@dataclass(frozen=True, slots=True)
class Ticker:
    market: Market
    last_price: Decimal
    timestamp: datetime
    open_price: Decimal | None = None
    high_price: Decimal | None = None
    low_price: Decimal | None = None
    prev_close: Decimal | None = None
    change_rate: Decimal | None = None
    volume_24h: Decimal | None = None
    value_24h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TradeTick:
    """One public trade of the market (``/v1/trades/ticks``)."""

    market: Market
    timestamp: datetime
    price: Decimal
    volume: Decimal
    side: Side  # the taker's side
    sequential_id: str


@fast_init
@dataclass(frozen=True, slots=True)
class Level:
    price: Decimal
    size: Decimal


@fast_init
@dataclass(frozen=True, slots=True)
class Orderbook:
    """Asks ascending, bids descending, as the exchange lists them."""

    market: Market
    timestamp: datetime
    asks: tuple[Level, ...]
    bids: tuple[Level, ...]

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def mid(self) -> Decimal | None:
        if self.best_ask is None or self.best_bid is None:
            return None
        return (self.best_ask + self.best_bid) / 2

    @property
    def spread_bps(self) -> Decimal | None:
        mid = self.mid
        if mid is None or self.best_ask is None or self.best_bid is None:
            return None
        return bps(self.best_ask - self.best_bid, mid)

    def side_levels(self, side: Side) -> tuple[Level, ...]:
        """The levels an order of ``side`` takes liquidity from."""
        return self.asks if side is Side.BUY else self.bids


@fast_init
@dataclass(frozen=True, slots=True)
class Candle:
    """One candle; ``start`` is the open time, timezone-aware UTC."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    value: Decimal | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Balance:
    """``balance`` is free to use; ``locked`` sits in open orders."""

    currency: str
    balance: Decimal
    locked: Decimal = ZERO
    avg_buy_price: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.balance + self.locked


@fast_init
@dataclass(frozen=True, slots=True)
class OrderChance:
    """Fees and limits of one market for this account (``/v1/orders/chance``)."""

    market: Market
    bid_fee: Decimal
    ask_fee: Decimal
    maker_bid_fee: Decimal
    maker_ask_fee: Decimal
    min_total: Decimal
    max_total: Decimal | None = None
    bid_types: tuple[str, ...] = ()
    ask_types: tuple[str, ...] = ()
    state: str = "active"

    def taker_fee(self, side: Side) -> Decimal:
        return self.bid_fee if side is Side.BUY else self.ask_fee


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order to send. Market buys spend ``notional`` KRW; everything else has a volume.

    ``client_order_id`` is mandatory: it is how a placement whose answer was lost is
    found again instead of being sent twice.
    """

    market: Market
    side: Side
    order_type: OrderType
    client_order_id: str
    volume: Decimal | None = None
    price: Decimal | None = None
    notional: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id:
            raise InvalidOrder("client_order_id is required")
        if self.order_type is OrderType.LIMIT:
            _require_positive(self.price, "limit order price")
            _require_positive(self.volume, "limit order volume")
        elif self.side is Side.BUY:
            _require_positive(self.notional, "market buy notional")
            if self.volume is not None:
                raise InvalidOrder("a market buy is sized by notional, not volume")
        else:
            _require_positive(self.volume, "market sell volume")
        if self.volume is not None and self.volume != round_volume(self.volume):
            raise InvalidOrder(f"volume {self.volume} has more than 8 decimals")


def _require_positive(value: Decimal | None, what: str) -> None:
    if value is None or value <= 0:
        raise InvalidOrder(f"{what} must be positive, got {value}")


@fast_init
@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order."""

    trade_id: str
    price: Decimal
    volume: Decimal
    funds: Decimal
    created_at: datetime
    fee: Decimal | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange (or the paper exchange) reports it."""

    order_id: str
    market: Market
    side: Side
    order_type: OrderType
    state: OrderState
    created_at: datetime
    client_order_id: str | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    remaining_volume: Decimal = ZERO
    executed_volume: Decimal = ZERO
    executed_funds: Decimal = ZERO
    paid_fee: Decimal = ZERO
    fills: tuple[Fill, ...] = field(default=())

    @property
    def average_price(self) -> Decimal | None:
        return average_price(self.executed_funds, self.executed_volume)


@fast_init
@dataclass(frozen=True, slots=True)
class Position:
    """Holding of one coin; ``avg_price`` is what it cost per unit, fees excluded."""

    market: Market
    size: Decimal
    avg_price: Decimal

    @property
    def cost(self) -> Decimal:
        return self.size * self.avg_price

    def value(self, price: Decimal) -> Decimal:
        return self.size * price

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        return self.size * (price - self.avg_price)


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``15m``, ``1h30m``, ``7d`` or a plain number of seconds.

    Raises ValueError with the accepted forms when the text is anything else.
    """
    spec = text.strip().lower()
    if spec.isdigit():
        return timedelta(seconds=int(spec))
    total, number, seen_digit = 0, "", False
    for char in spec:
        seen_digit = seen_digit or char.isdigit()
        if char.isdigit():
            number += char
        elif char in _DURATION_UNITS and number:
            total += int(number) * _DURATION_UNITS[char]
            number = ""
        else:
            number = "!"
            break
    if number or not seen_digit:
        raise ValueError(f"duration must look like 90s, 15m, 1h30m or 7d, got {text!r}")
    return timedelta(seconds=total)
