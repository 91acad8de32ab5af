"""The orderbook in a few exact numbers: spread, imbalance, depth near the mid.

Everything stays ``Decimal``: depth is money, and the spread and mid feed price limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from ..domain import BPS, ZERO, Level, Orderbook, bps
from ..errors import RetryableError
from .model import BookSummary

IMBALANCE_STEP = Decimal("0.000001")
"""Imbalance is a ratio for people and rules; six decimals is more than either reads."""


class InvalidOrderbook(RetryableError, ValueError):
    """An orderbook that cannot describe a market: a side empty, crossed or out of order.

    It is a data fault, not a refusal: nothing was sent, so no ``ExchangeRejected``.
    It is a ``RetryableError`` because a book snapshot taken mid-update (crossed) or
    during a pause (empty) is usually fine on the next fetch, and asking again is
    harmless; and a ``ValueError`` because the input value is what is wrong.
    """


def summarize_book(orderbook: Orderbook, levels: int, depth_bps: Decimal) -> BookSummary:
    """Summarize ``orderbook``: imbalance over the top ``levels`` levels, depth within
    ``depth_bps`` of the mid on each side.

    Raises:
        InvalidOrderbook: a side is empty, the book is crossed or locked (best bid at or
            above best ask), or a side is not sorted best first.
        ValueError: ``levels`` below 1 or ``depth_bps`` not positive (a caller's bug).
    """
    if levels < 1:
        raise ValueError(f"levels must be at least 1, got {levels}")
    if depth_bps <= 0:
        raise ValueError(f"depth_bps must be positive, got {depth_bps}")
    best_bid, best_ask = _validated_best_prices(orderbook)
    mid = (best_bid + best_ask) / 2
    band = mid * depth_bps / BPS
    floor, ceiling = mid - band, mid + band
    return BookSummary(
        best_bid=best_bid,
        best_ask=best_ask,
        mid=mid,
        spread_bps=bps(best_ask - best_bid, mid),
        imbalance=_imbalance(orderbook.bids[:levels], orderbook.asks[:levels]),
        bid_depth_krw=_notional([level for level in orderbook.bids if level.price >= floor]),
        ask_depth_krw=_notional([level for level in orderbook.asks if level.price <= ceiling]),
        levels=levels,
        depth_bps=depth_bps,
    )


def _validated_best_prices(orderbook: Orderbook) -> tuple[Decimal, Decimal]:
    where = f"orderbook of {orderbook.market} at {orderbook.timestamp.isoformat()}"
    if not orderbook.bids or not orderbook.asks:
        empty = "bids" if not orderbook.bids else "asks"
        raise InvalidOrderbook(f"{where} has no {empty}")
    if not _is_sorted([level.price for level in orderbook.asks], ascending=True):
        raise InvalidOrderbook(f"{where}: asks are not in ascending price order")
    if not _is_sorted([level.price for level in orderbook.bids], ascending=False):
        raise InvalidOrderbook(f"{where}: bids are not in descending price order")
    best_bid, best_ask = orderbook.bids[0].price, orderbook.asks[0].price
    if best_bid >= best_ask:
        raise InvalidOrderbook(f"{where} is crossed: best bid {best_bid} >= best ask {best_ask}")
    if best_bid <= 0:
        raise InvalidOrderbook(f"{where} has a non-positive best bid {best_bid}")
    return best_bid, best_ask


def _is_sorted(prices: list[Decimal], *, ascending: bool) -> bool:
    # Comparing with a sorted copy: the sort runs in C, and on sorted input in one pass.
    return prices == sorted(prices, reverse=not ascending)


def _imbalance(bids: Sequence[Level], asks: Sequence[Level]) -> Decimal:
    return imbalance(sum([level.size for level in bids], ZERO),
                     sum([level.size for level in asks], ZERO))


def imbalance(bid_size: Decimal, ask_size: Decimal) -> Decimal:
    """(bid size - ask size) / (bid size + ask size); 0 when both sides are empty of size."""
    total = bid_size + ask_size
    if total == 0:
        return ZERO
    return ((bid_size - ask_size) / total).quantize(IMBALANCE_STEP)


def _notional(levels_in_band: Iterable[Level]) -> Decimal:
    """KRW resting on ``levels_in_band``, exact."""
    return sum([level.price * level.size for level in levels_in_band], ZERO)
