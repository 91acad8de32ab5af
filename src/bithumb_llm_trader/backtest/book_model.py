"""The synthetic orderbook a backtest fills against, and how its defaults were fitted.

Candle files record prices, not liquidity, yet the paper exchange fills by walking a
book: so each fill walks a book built around the price of that moment from four
numbers (``config.BacktestConfig``). They default to a fit of one real KRW-BTC book
(Upbit, 2021-03-08 15:19 KST, 15 levels a side, mid 58,024,500 KRW), made by
``fit_book_model``:

* spread 9,000 KRW = 1.55 bps of the mid;
* mean gap between neighbouring levels 0.47 bps (asks 4,357 KRW apart on average,
  bids one 1,000 KRW tick apart);
* mean resting value per level 5,836,175 KRW (median 0.8 M: a few deep levels carry
  the book). Sizes are that value divided by the best price of the side, so depth
  keeps its KRW value when the price level changes, and the 15 levels hold the real
  book's 87.5 M KRW.

Prices are rounded onto Bithumb's tick (asks up, bids down), gaps are at least one
tick, and sizes are rounded down to the 8-decimal volume step.

Every level of a side has one size and the levels are one gap apart, so the summary a
decision reads (``market.summarize_book``) has a closed form (``BookSides.summary``):
from the sides a book was built from, it costs a third of adding the book up, for the
same exact figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ..config.models import BacktestConfig
from ..domain import BPS, ZERO, Level, Market, Orderbook, bps, round_volume, tick_size
from ..market import BookSummary, summarize_book
from ..market.book import imbalance

_TWO = Decimal(2)
_BPS_STEP = Decimal("0.01")
_ANY_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""A book's time changes nothing in its summary."""


@dataclass(frozen=True, slots=True)
class BookModel:
    """Spread, level spacing and depth of a synthetic book (see the module docstring)."""

    spread_bps: Decimal
    level_spacing_bps: Decimal
    level_notional_krw: Decimal
    levels: int

    @classmethod
    def from_config(cls, config: BacktestConfig) -> BookModel:
        return cls(
            spread_bps=config.spread_bps,
            level_spacing_bps=config.level_spacing_bps,
            level_notional_krw=config.level_notional_krw,
            levels=config.book_levels,
        )

    def book_around(self, market: Market, mid: Decimal, at: datetime) -> Orderbook:
        """A book whose mid is ``mid``: best ask and bid half a spread either side."""
        return self.sides_around(market, mid).book(market, at)

    def sides_around(self, market: Market, mid: Decimal) -> BookSides:
        """The two sides of ``book_around``, as the few numbers that make them."""
        quote = market.quote
        half = mid * self.spread_bps / BPS / _TWO
        best_ask = _on_tick(mid + half, ROUND_CEILING, quote)
        best_bid = _on_tick(mid - half, ROUND_FLOOR, quote)
        if best_ask <= best_bid:  # a spread under one tick still leaves a tick between
            best_ask = best_bid + tick_size(best_bid, quote)
        return BookSides(self._side(best_ask, 1, quote, mid), self._side(best_bid, -1, quote, mid))

    def range_book(self, market: Market, low: Decimal, high: Decimal, at: datetime) -> Orderbook:
        """Asks from ``low`` up and bids from ``high`` down: what a candle traded through.

        Crossed on purpose and only used to re-check resting limit orders: a buy limit
        at or above the candle's low, or a sell limit at or below its high, was reached
        during the candle, and fills up to the depth the model puts between them.
        """
        return BookSides(self._side(low, 1, market.quote, low),
                         self._side(high, -1, market.quote, high)).book(market, at)

    def _side(self, best: Decimal, direction: int, quote: str, mid: Decimal) -> ModelSide:
        """``levels`` levels from ``best`` outwards, the gap rounded to whole ticks.

        Every level gets the size the notional buys at ``best``: within a 15-level book
        the price moves by basis points, so a per-level division would change nothing
        but the cost.
        """
        tick = tick_size(best, quote)
        gap = (mid * self.level_spacing_bps / BPS / tick).to_integral_value()
        step = max(gap, Decimal(1)) * tick * direction
        count = self.levels
        if direction < 0 and best > 0:  # bids stop before the price reaches zero
            count = min(count, int((best / -step).to_integral_value(ROUND_CEILING)))
        elif best <= 0:
            count = 0
        return ModelSide(best, step, round_volume(self.level_notional_krw / best), count)


@dataclass(frozen=True, slots=True)
class ModelSide:
    """One side of a model book: ``count`` levels of ``size`` from ``best``, ``step`` apart
    (negative for bids)."""

    best: Decimal
    step: Decimal
    size: Decimal
    count: int

    def levels(self) -> tuple[Level, ...]:
        size, step, price = self.size, self.step, self.best
        levels = []
        for _ in range(self.count):  # one addition a level: a replay builds many books
            levels.append(Level(price, size))
            price += step
        return tuple(levels)

    def value_to(self, limit: Decimal) -> Decimal:
        """KRW resting on the levels from the best price to ``limit`` (inclusive)."""
        if (limit - self.best) * self.step < 0:
            return ZERO  # the best price is already past the limit
        levels = min(self.count, int((limit - self.best) // self.step) + 1)
        if not levels:
            return ZERO
        return self.size * (levels * self.best + self.step * (levels * (levels - 1) // 2))


@dataclass(frozen=True, slots=True)
class BookSides:
    """The asks and bids of a model book around one price."""

    asks: ModelSide
    bids: ModelSide

    def book(self, market: Market, at: datetime) -> Orderbook:
        return Orderbook(market=market, timestamp=at, asks=self.asks.levels(),
                         bids=self.bids.levels())

    def summary(self, market: Market, levels: int, depth_bps: Decimal) -> BookSummary:
        """``summarize_book(self.book(market, at), levels, depth_bps)`` without building
        the book: n levels of size s from price p, d apart, hold n * s coins and
        s * (n * p + d * n * (n - 1) / 2) won, exactly.

        Raises:
            market.book.InvalidOrderbook, ValueError: as ``summarize_book`` would.
        """
        asks, bids = self.asks, self.bids
        best_ask, best_bid = asks.best, bids.best
        if levels < 1 or depth_bps <= 0 or best_bid <= 0:  # its errors, word for word
            return summarize_book(self.book(market, _ANY_TIME), levels, depth_bps)
        middle = (best_bid + best_ask) / 2
        band = middle * depth_bps / BPS
        return BookSummary(
            best_bid=best_bid, best_ask=best_ask, mid=middle,
            spread_bps=bps(best_ask - best_bid, middle),
            imbalance=imbalance(bids.size * min(levels, bids.count),
                                asks.size * min(levels, asks.count)),
            bid_depth_krw=bids.value_to(middle - band),
            ask_depth_krw=asks.value_to(middle + band),
            levels=levels, depth_bps=depth_bps,
        )


AsksAndBids = tuple[tuple[Level, ...], tuple[Level, ...]]


class LazyBook(Orderbook):
    """An ``Orderbook`` whose asks and bids come from ``levels`` the first time they are
    read: a replay's decision that holds reads only the book's summary, and building
    thirty levels for each one was about 6% of a cycle.

    Once read it is a plain ``Orderbook`` (the levels sit in its slots), and it compares
    and hashes as the ``Orderbook`` of the same fields.
    """

    __slots__ = ("_levels",)
    _levels: Callable[[], AsksAndBids]

    def __init__(self, market: Market, timestamp: datetime,
                 levels: Callable[[], AsksAndBids]) -> None:
        object.__setattr__(self, "market", market)  # frozen fields, set as the dataclass does
        object.__setattr__(self, "timestamp", timestamp)
        object.__setattr__(self, "_levels", levels)

    def __getattr__(self, name: str) -> tuple[Level, ...]:
        # Python asks here only for an attribute not set yet: asks and bids, once.
        if name not in ("asks", "bids"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        asks, bids = self._levels()
        object.__setattr__(self, "asks", asks)
        object.__setattr__(self, "bids", bids)
        return asks if name == "asks" else bids

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Orderbook):
            return NotImplemented
        return (self.market, self.timestamp, self.asks, self.bids) == (
            other.market, other.timestamp, other.asks, other.bids)

    __hash__ = Orderbook.__hash__


def _on_tick(price: Decimal, rounding: str, quote: str) -> Decimal:
    tick = tick_size(price, quote)
    return (price / tick).to_integral_value(rounding) * tick


def fit_book_model(book: Orderbook) -> BookModel:
    """Fit the four numbers to a real book: spread and mean gap in bps of the mid,
    mean KRW resting per level, and the levels the thinner side has."""
    mid = book.mid
    if mid is None:
        raise ValueError("cannot fit a book model to a book without both sides")
    spread = (book.asks[0].price - book.bids[0].price) / mid * BPS
    gaps = [*_gaps(book.asks), *_gaps(book.bids)]
    levels = [*book.asks, *book.bids]
    spacing = sum(gaps, Decimal(0)) / len(gaps) / mid * BPS if gaps else Decimal(0)
    notional = sum((level.price * level.size for level in levels), Decimal(0)) / len(levels)
    return BookModel(
        spread_bps=spread.quantize(_BPS_STEP),
        level_spacing_bps=spacing.quantize(_BPS_STEP),
        level_notional_krw=notional.quantize(Decimal(1)),
        levels=min(len(book.asks), len(book.bids)),
    )


def _gaps(levels: Sequence[Level]) -> list[Decimal]:
    return [abs(levels[i + 1].price - levels[i].price) for i in range(len(levels) - 1)]
