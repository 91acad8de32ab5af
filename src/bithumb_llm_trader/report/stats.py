"""The report's arithmetic, pure and exact: percentiles, means, drawdown, FIFO PnL.

Kept free of SQL so each rule is tested on plain Decimals. Nothing here passes through
a float; where a quotient must be rounded the step is named and the rounding explicit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal

from ..domain import ZERO, Side
from ..liquidity import signed_slippage_bps as liquidity_slippage
from .model import EquitySummary, SlippageStats

BPS_STEP = Decimal("0.01")
"""Slippage figures, like the engine's, are in bps to 2 decimals."""
KRW_STEP = Decimal("0.01")
"""PnL needs quotients (part of a lot); it is rounded to 0.01 KRW at the very end."""
FRACTION_STEP = Decimal("0.000001")
"""Ratios (fill rate, drawdown) as fractions to 6 decimals."""
_WIDE = 60
"""Digits kept in the intermediate quotients of FIFO matching."""


def quantize(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded half-even to ``step``: the one rounding rule of the report."""
    return value.quantize(step, rounding=ROUND_HALF_EVEN)


def mean(total: Decimal | int, count: int, step: Decimal) -> Decimal | None:
    """``total / count`` rounded to ``step``; ``None`` for an empty set, not a fake zero."""
    if count == 0:
        return None
    return quantize(Decimal(total) / count, step)


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part / whole`` as a fraction to 6 decimals, ``None`` when ``whole`` is zero."""
    if not whole:
        return None
    return quantize(Decimal(part) / Decimal(whole), FRACTION_STEP)


def signed_slippage_bps(
    side: str | None, price: Decimal | None, reference: Decimal | None
) -> Decimal | None:
    """Cost of ``price`` against ``reference`` in bps, positive is worse: the engine's
    rule (``liquidity.signed_slippage_bps``) for a side read back as its wire text, so
    the snapshot and arrival prices are measured identically for orders and TWAPs."""
    if side is None:
        return None
    return liquidity_slippage(Side(side), price, reference)


def nearest_rank(ordered: Sequence[Decimal], percent: int) -> Decimal:
    """The nearest-rank percentile of ascending ``ordered``: an observed value, exact.

    Rank ``ceil(percent / 100 * n)`` (1-based); no interpolation, so p95 of a small
    sample is a real fill's slippage, not a blend of two.
    """
    if not ordered:
        raise ValueError("no values")
    rank = (Decimal(percent) * len(ordered) / 100).to_integral_value(rounding=ROUND_CEILING)
    return ordered[max(int(rank), 1) - 1]


def slippage_stats(values: Iterable[Decimal]) -> SlippageStats:
    """Count, mean, p50, p95 and worst (the largest cost) of signed bps values."""
    ordered = sorted(values)
    if not ordered:
        return SlippageStats(0, None, None, None, None)
    return SlippageStats(
        count=len(ordered),
        mean_bps=mean(sum(ordered, ZERO), len(ordered), BPS_STEP),
        p50_bps=nearest_rank(ordered, 50),
        p95_bps=nearest_rank(ordered, 95),
        worst_bps=ordered[-1],
    )


def equity_summary(points: Sequence[Decimal]) -> EquitySummary:
    """Start, end, change and maximum drawdown of an equity series in time order."""
    if not points:
        return EquitySummary(0, None, None, None, None, None)
    peak = points[0]
    deepest, deepest_fraction = ZERO, ZERO
    for equity in points:
        if equity > peak:
            peak = equity
            continue
        fall = peak - equity
        if fall > deepest:
            deepest = fall
        if fall > 0 and peak > 0 and fall / peak > deepest_fraction:
            deepest_fraction = fall / peak
    return EquitySummary(
        samples=len(points),
        start_krw=points[0],
        end_krw=points[-1],
        change_krw=points[-1] - points[0],
        max_drawdown_krw=deepest,
        max_drawdown_pct=quantize(deepest_fraction, FRACTION_STEP),
    )


@dataclass(frozen=True, slots=True)
class TradeFill:
    """One fill as FIFO matching needs it; ``side`` is ``bid`` or ``ask``."""

    side: str
    volume: Decimal
    funds: Decimal


@dataclass(slots=True)
class FifoBook:
    """First-in first-out lots of one market (and one of paper or live money).

    Each lot keeps its remaining volume and the cost of exactly that volume, so a lot
    consumed to the end gives up its whole recorded cost, not a re-derived one. Only
    part of a lot or of a sell needs a quotient; it and every sum are carried at 60
    digits, so the thirds of a lot add up to the lot again.
    """

    lots: deque[list[Decimal]] = field(default_factory=deque)
    realised: Decimal = ZERO
    unmatched: Decimal = ZERO
    _context: Context = field(default_factory=lambda: Context(prec=_WIDE))

    def add(self, fill: TradeFill, *, counted: bool) -> None:
        """Apply ``fill``; a sell adds to ``realised`` only when ``counted`` (in period)."""
        if fill.side == Side.BUY.value:
            self.buy(fill.volume, fill.funds)
        else:
            self.sell(fill.volume, fill.funds, counted=counted)

    def buy(self, volume: Decimal, funds: Decimal) -> None:
        """A new lot at the back of the queue."""
        if volume > 0:
            self.lots.append([volume, funds])

    def sell(self, volume: Decimal, funds: Decimal, *, counted: bool) -> None:
        """Close lots from the front; realise only when ``counted`` (in the period)."""
        exact = self._context
        left_volume, left_funds = volume, funds
        while left_volume > 0 and self.lots:
            lot = self.lots[0]
            take = min(left_volume, lot[0])
            cost = lot[1] if take == lot[0] else self._share(lot[1], take, lot[0])
            proceeds = left_funds if take == left_volume else self._share(
                left_funds, take, left_volume)
            if counted:
                self.realised = exact.add(self.realised, exact.subtract(proceeds, cost))
            lot[0] = exact.subtract(lot[0], take)
            lot[1] = exact.subtract(lot[1], cost)
            left_volume = exact.subtract(left_volume, take)
            left_funds = exact.subtract(left_funds, proceeds)
            if lot[0] == 0:
                self.lots.popleft()
        if counted:
            self.unmatched += left_volume

    def _share(self, amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
        return self._context.divide(self._context.multiply(amount, part), whole)

    @property
    def open_volume(self) -> Decimal:
        return sum((lot[0] for lot in self.lots), ZERO)

    def unrealised(self, price: Decimal | None) -> Decimal:
        """Value of the open lots at ``price`` minus what they cost; 0 when flat."""
        if price is None:
            return ZERO
        exact = self._context
        total = ZERO
        for volume, cost in self.lots:
            total = exact.add(total, exact.subtract(exact.multiply(volume, price), cost))
        return total
