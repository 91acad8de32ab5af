"""Numbers as an operator reads them on the terminal; the JSON keeps the exact strings.

KRW to the won (or to 0.01 where fractions matter, such as fees), prices to their tick's
precision, coin volumes to the exchange's 8 decimals, fractions as percentages, and ``-``
for a figure that does not exist. Every value is a ``Decimal`` rounded explicitly:
never a float, so what is shown is what is stored, rounded once, in one known way.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from ..domain import VOLUME_STEP, tick_size

MISSING = "-"
"""Shown for a figure that does not exist (no fill yet, no round trip to rate)."""

Number = Decimal | int | float | str | None
"""What a result may hold: Decimals, JSON strings of them, counts, rounded ratios."""


def as_decimal(value: Number) -> Decimal | None:
    """``value`` as an exact Decimal, or None when it is missing or not a number.

    A float (the backtest's rounded ratios) goes through its shortest ``repr``, the
    same digits its JSON shows, not through its binary expansion.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def fixed(value: Number, places: int, rounding: str = ROUND_HALF_UP) -> str:
    """``value`` with exactly ``places`` decimals and thousands separators."""
    number = as_decimal(value)
    if number is None:
        return MISSING
    step = Decimal(1).scaleb(-places)
    rounded = number.quantize(step, rounding=rounding)
    if rounded.is_zero():
        rounded = abs(rounded)  # no "-0"
    return f"{rounded:,.{places}f}"


def krw(value: Number, places: int = 0) -> str:
    """Won: ``999,744``; ``places=2`` where fractions matter (fees): ``399.90``."""
    return fixed(value, places)


def price(value: Number, quote: str = "KRW") -> str:
    """A price to its tick's precision: ``64,202,000`` (tick 1,000), ``512.35`` (0.01)."""
    number = as_decimal(value)
    if number is None:
        return MISSING
    return fixed(number, _places(tick_size(abs(number), quote)))


def volume(value: Number) -> str:
    """Coins to the exchange's 8 decimals, rounded down: ``0.00155700``."""
    return fixed(value, _places(VOLUME_STEP), ROUND_DOWN)


def percent(fraction: Number, places: int = 2) -> str:
    """A fraction as a percentage: ``0.0234`` -> ``2.34%``."""
    number = as_decimal(fraction)
    return MISSING if number is None else fixed(number * 100, places) + "%"


def ratio(value: Number, places: int = 2) -> str:
    """A plain ratio such as a Sharpe ratio: ``1.27``."""
    return fixed(value, places)


def bps(value: Number) -> str:
    """Basis points to a tenth: ``12.5 bps``."""
    text = fixed(value, 1)
    return text if text == MISSING else f"{text} bps"


def usd(value: Number) -> str:
    """Model cost in dollars; a cycle costs fractions of a cent, so 4 decimals."""
    text = fixed(value, 4)
    return text if text == MISSING else f"${text}"


def count(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def _places(step: Decimal) -> int:
    """Decimals of an increment: 0.01 -> 2, 1,000 -> 0."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)
