"""Netting the orders of several strategies on one market into one order: pure math.

Buy intents spend KRW (market buys), sell intents give up coins (market sells). At the
cycle's cross price ``P`` (the book's mid) the smaller side is matched internally against
the larger one: those coins move between the strategies' ledgers and never touch the
exchange, so neither side pays a fee or the spread on them. Only the remainder goes out
as one order. Who is served how:

* the PASSIVE side (the smaller one) is filled completely inside, at ``P`` (unless the
  sellers' remainder is under the exchange's minimum order: then the cross shrinks so
  the sellers' order reaches the minimum, and the buyers keep a little cash instead of
  the sellers keeping coins too few to ever sell);
* the ACTIVE side shares, in proportion to what each intent asked for, the coins (or
  KRW) crossed inside plus whatever the external order filled, and that order's fee.

Every split is exact: shares are rounded down to the step and the leftover units go,
one step each, to the largest remainders, so the shares always sum to the total and
none exceeds its exact share by more than a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from ..domain import (
    VOLUME_STEP,
    ZERO,
    Market,
    Side,
    average_price,
    round_krw,
    round_volume,
    to_decimal,
)

SPLIT_STEP = Decimal("0.00000001")
"""Volumes, funds and fees are split to 8 decimals (the exchange's volume step)."""

REASON_BELOW_MIN = "below_min_order"


@dataclass(frozen=True, slots=True)
class Intent:
    """One strategy's market order as its engine sized it.

    ``amount`` is KRW for a buy and coins for a sell; ``requested`` is what the engine
    asked for before any portfolio-wide cap scaled it down (equal when none did).
    """

    strategy: str
    client_order_id: str
    market: Market
    side: Side
    amount: Decimal
    requested: Decimal

    @property
    def scaled(self) -> bool:
        return self.amount < self.requested


@dataclass(frozen=True, slots=True)
class NettingPlan:
    """How one market's intents are served: inside at ``price``, and one order outside.

    ``active_side`` is the larger side (it shares the cross and the external order);
    ``external_amount`` is KRW for a buy and coins for a sell, zero when nothing is sent.
    """

    netting_id: str
    market: Market
    price: Decimal
    intents: tuple[Intent, ...]
    active_side: Side
    cross_volume: Decimal
    external_amount: Decimal
    reason: str | None = None

    @property
    def sends_order(self) -> bool:
        return self.external_amount > 0

    @property
    def passive_side(self) -> Side:
        return self.active_side.opposite

    @property
    def fully_served(self) -> bool:
        """True when the active side needs nothing from outside."""
        return not self.sends_order and self.reason is None

    def of_side(self, side: Side) -> tuple[Intent, ...]:
        return tuple(i for i in self.intents if i.side is side)


@dataclass(frozen=True, slots=True)
class ExternalFill:
    """What the netted order really filled (zero when none was sent or it failed)."""

    volume: Decimal = ZERO
    funds: Decimal = ZERO
    fee: Decimal = ZERO
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Share:
    """What one intent got: the internal part at the cross price and its external part."""

    intent: Intent
    cross_volume: Decimal
    cross_funds: Decimal
    external_volume: Decimal
    external_funds: Decimal
    fee: Decimal
    complete: bool

    @property
    def volume(self) -> Decimal:
        return self.cross_volume + self.external_volume

    @property
    def funds(self) -> Decimal:
        return self.cross_funds + self.external_funds


def plan_netting(
    netting_id: str,
    market: Market,
    intents: Sequence[Intent],
    *,
    price: Decimal,
    min_order_krw: Decimal,
) -> NettingPlan:
    """Match buys against sells at ``price`` and size the one order for the remainder."""
    if price <= 0:
        raise ValueError(f"cross price must be positive, got {price}")
    ordered = tuple(sorted(intents, key=lambda i: i.client_order_id))
    buys = [i for i in ordered if i.side is Side.BUY]
    buy_volume = sum((_volume_at(i.amount, price) for i in buys), ZERO)
    sell_volume = sum((i.amount for i in ordered if i.side is Side.SELL), ZERO)
    if buy_volume >= sell_volume:
        active, cross = Side.BUY, sell_volume
        amount = round_krw(sum((i.amount for i in buys), ZERO) - cross * price)
        # Each buyer's volume was rounded down by less than one step: that is dust.
        if amount < price * VOLUME_STEP * len(buys):
            amount = ZERO
        value = amount
    else:
        active, cross = Side.SELL, buy_volume
        amount = sell_volume - cross
        least = (min_order_krw / price).quantize(VOLUME_STEP, rounding=ROUND_CEILING)
        if amount < least <= sell_volume:
            # Too little left to send: cross less, so the sellers' order reaches the
            # minimum and nobody keeps coins too small to ever sell; the buyers keep cash.
            amount, cross = least, sell_volume - least
        value = amount * price
    reason = None
    if ZERO < value < min_order_krw:
        reason, amount = REASON_BELOW_MIN, ZERO
    return NettingPlan(
        netting_id=netting_id, market=market, price=price, intents=ordered,
        active_side=active, cross_volume=cross, external_amount=amount, reason=reason,
    )


def _volume_at(notional: Decimal, price: Decimal) -> Decimal:
    return round_volume(notional / price)


def passive_shares(plan: NettingPlan) -> tuple[Share, ...]:
    """The smaller side's fills: inside, at the cross price, no fee; complete unless the
    cross was shrunk for the sellers' minimum (then pro rata)."""
    passive = plan.of_side(plan.passive_side)
    wanted = [i.amount if i.side is Side.SELL else _volume_at(i.amount, plan.price)
              for i in passive]
    volumes = split(plan.cross_volume, wanted)
    return tuple(
        Share(intent, volume, volume * plan.price, ZERO, ZERO, ZERO,
              complete=volume == want > 0 and not intent.scaled)
        for intent, volume, want in zip(passive, volumes, wanted, strict=True)
    )


def active_shares(plan: NettingPlan, external: ExternalFill) -> tuple[Share, ...]:
    """The larger side's fills: the internal cross and the external fill, pro rata.

    The two parts are rounded separately, so each intent's external part is capped at
    what its internal part left of its amount: nobody is filled beyond what it asked.
    """
    active = plan.of_side(plan.active_side)
    weights = [i.amount for i in active]
    volumes = split(plan.cross_volume, weights,
                    caps=weights if plan.active_side is Side.SELL else None)
    funds = split(plan.cross_volume * plan.price, weights,
                  caps=weights if plan.active_side is Side.BUY else None)
    if plan.active_side is Side.SELL:
        room = [w - v for w, v in zip(weights, volumes, strict=True)]
        ext_volumes = split(external.volume, weights, caps=room)
        ext_funds = split(external.funds, weights)
    else:
        room = [w - f for w, f in zip(weights, funds, strict=True)]
        ext_volumes = split(external.volume, weights)
        ext_funds = split(external.funds, weights, caps=room)
    fees = split(external.fee, weights)
    served = plan.fully_served or (plan.sends_order and external.complete)
    return tuple(
        Share(intent, volumes[k], funds[k], ext_volumes[k], ext_funds[k], fees[k],
              complete=served and not intent.scaled)
        for k, intent in enumerate(active)
    )


def split(
    total: Decimal,
    weights: Sequence[Decimal],
    step: Decimal = SPLIT_STEP,
    caps: Sequence[Decimal] | None = None,
) -> list[Decimal]:
    """``total`` in proportion to ``weights``, rounded to ``step``, summing to ``total``.

    Largest-remainder rounding: each share is rounded down, whole leftover steps go to
    the largest remainders, and a sub-step residue (a total off the step grid) to the
    largest remainder of all. With ``caps``, no share exceeds its cap (leftovers go to
    the next largest remainder that has room); the caller guarantees the caps add up to
    at least ``total``.
    """
    weight_sum = sum(weights, ZERO)
    if not weights:
        return []
    if total == 0 or weight_sum <= 0:
        return [ZERO] * len(weights)
    limits = list(caps) if caps is not None else [total] * len(weights)
    exact = [total * weight / weight_sum for weight in weights]
    shares = [min(value.quantize(step, rounding=ROUND_DOWN), limit)
              for value, limit in zip(exact, limits, strict=True)]
    by_remainder = sorted(range(len(weights)), key=lambda k: (shares[k] - exact[k], k))
    leftover = total - sum(shares, ZERO)
    for k in by_remainder:
        if leftover < step:
            break
        if limits[k] - shares[k] >= step:
            shares[k] += step
            leftover -= step
    for k in by_remainder:  # what is left: less than a step each, where it still fits
        if leftover <= 0:
            break
        extra = min(leftover, limits[k] - shares[k])
        if extra > 0:
            shares[k] += extra
            leftover -= extra
    if leftover != 0:
        raise ValueError(f"cannot split {total} under caps {limits}")
    return shares


def cross_price(best_bid: Decimal, best_ask: Decimal) -> Decimal:
    """The mid price, to at most 8 decimals: both sides of an internal cross save half
    the spread, and fills priced at it stay within the store's 18 decimals."""
    mid = (best_bid + best_ask) / 2
    exponent = mid.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        mid = mid.quantize(SPLIT_STEP)
    return mid


def share_price(funds: Decimal, volume: Decimal) -> Decimal | None:
    return average_price(funds, volume)


# -- persistence ----------------------------------------------------------------------

def plan_to_json(plan: NettingPlan) -> dict[str, Any]:
    """The plan as JSON-ready data (decimals as strings), so a restart can settle it."""
    return {
        "netting_id": plan.netting_id,
        "market": str(plan.market),
        "price": str(plan.price),
        "active_side": plan.active_side.value,
        "cross_volume": str(plan.cross_volume),
        "external_amount": str(plan.external_amount),
        "reason": plan.reason,
        "intents": [
            {"strategy": i.strategy, "client_order_id": i.client_order_id,
             "side": i.side.value, "amount": str(i.amount), "requested": str(i.requested)}
            for i in plan.intents
        ],
    }


def plan_from_json(data: dict[str, Any]) -> NettingPlan:
    market = Market.parse(data["market"])
    intents = tuple(
        Intent(strategy=i["strategy"], client_order_id=i["client_order_id"], market=market,
               side=Side(i["side"]), amount=to_decimal(i["amount"]),
               requested=to_decimal(i["requested"]))
        for i in data["intents"]
    )
    return NettingPlan(
        netting_id=data["netting_id"], market=market, price=to_decimal(data["price"]),
        intents=intents, active_side=Side(data["active_side"]),
        cross_volume=to_decimal(data["cross_volume"]),
        external_amount=to_decimal(data["external_amount"]), reason=data.get("reason"),
    )
