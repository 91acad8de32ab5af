"""Sizing an approved trade: a pure function from limits and market state to a notional.

A buy starts from fixed-fractional risk, ``equity * risk_pct / stop_fraction`` (lose at
most ``risk_pct`` of equity if the stop is hit), and is then cut by every cap that
applies; each cap that bit is recorded so an operator can see why a trade was small.
A sell starts from the position (all of it to exit, ``reduce_fraction`` to reduce) and
is capped only by what the book can absorb: selling reduces risk, so the capital caps
do not apply to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .config import AllocationConfig, RiskConfig, TwapConfig
from .domain import ONE, ZERO, Orderbook, Side, round_krw, round_volume
from .fast_init import fast_init
from .liquidity import notional_within, volume_within, walk_book

CAP_SINGLE_ORDER = "max_single_order"
CAP_TRADE_VALUE = "max_trade_value"
CAP_POSITION = "max_position"
CAP_FREE_CASH = "free_cash"
CAP_LIQUIDITY = "liquidity"
CAP_POSITION_SIZE = "position_size"

REASON_BELOW_MIN = "below_min_order"
REASON_NO_BOOK = "no_liquidity"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRequest:
    """Everything sizing depends on, gathered so the function stays pure.

    ``committed_krw`` is capital promised elsewhere (the unsent part of running TWAPs of
    other strategies); ``sell_fraction`` is the share of the position a sell disposes of.
    """

    side: Side
    equity_krw: Decimal
    cash_krw: Decimal
    reserved_pool_krw: Decimal
    invested_krw: Decimal
    position_size: Decimal
    risk_pct: Decimal
    stop_fraction: Decimal
    orderbook: Orderbook
    fee_rate: Decimal
    min_order_krw: Decimal
    committed_krw: Decimal = ZERO
    sell_fraction: Decimal = ONE


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationProposal:
    """How much to trade and why not more."""

    side: Side
    desired_notional: Decimal
    final_notional: Decimal
    volume: Decimal
    scale_factor: Decimal
    caps: dict[str, Decimal] = field(default_factory=dict)
    caps_hit: tuple[str, ...] = ()
    reference_price: Decimal = ZERO
    expected_avg_price: Decimal | None = None
    expected_slippage_bps: Decimal | None = None
    fee_rate: Decimal = ZERO
    fee_estimate: Decimal = ZERO
    use_twap: bool = False
    reason: str | None = None

    @property
    def has_order(self) -> bool:
        return self.final_notional > 0 and self.reason is None


def evaluate_allocation(
    request: AllocationRequest,
    allocation: AllocationConfig,
    risk: RiskConfig,
    twap: TwapConfig,
) -> AllocationProposal:
    """Size one trade. Never negative, never above any cap, never into the reserve."""
    levels = request.orderbook.side_levels(request.side)
    if not levels:
        return _no_order(request, ZERO, {}, REASON_NO_BOOK)
    if request.side is Side.BUY:
        desired, caps = _buy_caps(request, allocation, risk)
    else:
        desired, caps = _sell_caps(request, allocation)
    final = max(min([desired, *caps.values()]), ZERO)
    hit = tuple(name for name, cap in caps.items() if cap < desired)
    return _proposal(request, desired, final, caps, hit, twap)


def _buy_caps(
    request: AllocationRequest, allocation: AllocationConfig, risk: RiskConfig
) -> tuple[Decimal, dict[str, Decimal]]:
    equity = max(request.equity_krw, ZERO)
    desired = ZERO
    if request.stop_fraction > 0:
        desired = equity * request.risk_pct / request.stop_fraction
    spendable = request.cash_krw - request.reserved_pool_krw - request.committed_krw
    caps = {
        CAP_SINGLE_ORDER: allocation.max_single_order_pct * equity,
        CAP_TRADE_VALUE: risk.max_trade_value,
        CAP_POSITION: risk.position_cap_krw(equity) - request.invested_krw,
        # The fee is paid on top of a market buy's notional, so leave room for it.
        CAP_FREE_CASH: spendable / (ONE + request.fee_rate),
        CAP_LIQUIDITY: notional_within(
            request.orderbook.asks, Side.BUY, allocation.max_slippage_bps
        ),
    }
    return round_krw(max(desired, ZERO)), {k: round_krw(max(v, ZERO)) for k, v in caps.items()}


def _sell_caps(
    request: AllocationRequest, allocation: AllocationConfig
) -> tuple[Decimal, dict[str, Decimal]]:
    best_bid = request.orderbook.bids[0].price
    volume = round_volume(request.position_size * request.sell_fraction)
    liquid = volume_within(request.orderbook.bids, Side.SELL, allocation.max_slippage_bps)
    desired = round_krw(volume * best_bid)
    caps = {
        CAP_POSITION_SIZE: round_krw(request.position_size * best_bid),
        CAP_LIQUIDITY: round_krw(liquid * best_bid),
    }
    return desired, caps


def _proposal(
    request: AllocationRequest,
    desired: Decimal,
    final: Decimal,
    caps: dict[str, Decimal],
    hit: tuple[str, ...],
    twap: TwapConfig,
) -> AllocationProposal:
    side = request.side
    levels = request.orderbook.side_levels(side)
    best = levels[0].price
    if side is Side.BUY:
        walk = walk_book(levels, side, notional=final)
        volume = walk.volume
    else:
        wanted = round_volume(request.position_size * request.sell_fraction)
        # Uncapped, sell exactly what was asked: converting through whole won would
        # leave a dust remainder of the position behind.
        volume = wanted if final >= desired else round_volume(
            min(final / best, request.position_size))
        walk = walk_book(levels, side, volume=volume)
    if final < request.min_order_krw or volume <= 0:
        return _no_order(request, desired, caps, REASON_BELOW_MIN, hit)
    return AllocationProposal(
        side=side,
        desired_notional=desired,
        final_notional=final,
        volume=volume,
        scale_factor=_ratio(final, desired),
        caps=caps,
        caps_hit=hit,
        reference_price=best,
        expected_avg_price=walk.average_price,
        expected_slippage_bps=walk.slippage_bps(side, best),
        fee_rate=request.fee_rate,
        fee_estimate=(final * request.fee_rate).quantize(Decimal("0.0001")),
        use_twap=final > twap.threshold_krw,
    )


def _no_order(
    request: AllocationRequest,
    desired: Decimal,
    caps: dict[str, Decimal],
    reason: str,
    hit: tuple[str, ...] = (),
) -> AllocationProposal:
    levels = request.orderbook.side_levels(request.side)
    return AllocationProposal(
        side=request.side,
        desired_notional=desired,
        final_notional=ZERO,
        volume=ZERO,
        scale_factor=ZERO,
        caps=caps,
        caps_hit=hit,
        reference_price=levels[0].price if levels else ZERO,
        fee_rate=request.fee_rate,
        reason=reason,
    )


def _ratio(final: Decimal, desired: Decimal) -> Decimal:
    if desired <= 0:
        return ZERO
    return (final / desired).quantize(Decimal("0.000001"))
