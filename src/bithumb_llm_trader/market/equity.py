"""What the account is worth in KRW, and the view of it a cycle decides with.

Every balance counts, free and locked: coins in an open sell order are still ours.
A coin without a KRW price cannot be valued; it is listed, logged and left out rather
than stopping the cycle, because one odd airdropped token must not halt trading.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..domain import ONE, ZERO, Balance, Market, Position, round_krw
from ..fast_init import fast_init
from .model import AccountView, Holding

logger = logging.getLogger(__name__)

KRW = "KRW"


@fast_init
@dataclass(frozen=True, slots=True)
class EquityEstimate:
    """Total KRW value of the priced balances, each holding, and the coins left out."""

    equity_krw: Decimal
    holdings: tuple[Holding, ...]
    unpriced: tuple[str, ...] = ()


def estimate_total_krw(
    balances: Iterable[Balance], prices_krw: Mapping[str, Decimal]
) -> EquityEstimate:
    """Value every non-zero balance (free + locked) at its KRW price; KRW counts at 1.

    Args:
        balances: the account's balances, one per currency.
        prices_krw: KRW price per unit by currency code (``"BTC"``); KRW needs none.

    A coin with no price, or a price that is not positive, is kept in ``holdings`` with
    ``price_krw=None``, named in ``unpriced``, left out of ``equity_krw`` and logged as
    a warning. Values are exact products; nothing is rounded.
    """
    holdings: list[Holding] = []
    unpriced: list[str] = []
    equity = ZERO
    for balance in balances:
        if balance.total == 0:
            continue
        price = _price_of(balance.currency, prices_krw)
        holding = _holding(balance, price)
        holdings.append(holding)
        if holding.value_krw is None:
            unpriced.append(balance.currency)
        else:
            equity += holding.value_krw
    if unpriced:
        logger.warning("no KRW price for %s; left out of total equity", ", ".join(unpriced))
    return EquityEstimate(equity_krw=equity, holdings=tuple(holdings), unpriced=tuple(unpriced))


def _price_of(currency: str, prices_krw: Mapping[str, Decimal]) -> Decimal | None:
    if currency == KRW:
        return ONE
    price = prices_krw.get(currency)
    if price is None or price <= 0:
        return None
    return price


def _holding(balance: Balance, price: Decimal | None) -> Holding:
    size = balance.total
    return Holding(
        currency=balance.currency,
        size=size,
        locked=balance.locked,
        avg_buy_price=balance.avg_buy_price,
        price_krw=price,
        value_krw=None if price is None else size * price,
    )


def build_account_view(
    balances: Iterable[Balance],
    prices_krw: Mapping[str, Decimal],
    market: Market,
    reserved_pool_pct: Decimal,
) -> AccountView:
    """Balances, the position in ``market`` and equity, as one cycle sees them.

    Args:
        balances: the account's balances.
        prices_krw: KRW price per unit by currency; must hold ``market.base`` for the
            position to count in equity.
        market: the traded market (quoted in KRW).
        reserved_pool_pct: fraction of equity allocation may never spend, in [0, 1).

    The position is the traded coin's whole balance (free + locked) at its average buy
    price; the reserved pool is rounded down to whole won.
    """
    if market.quote != KRW:
        raise ValueError(f"account views are in KRW; {market} is quoted in {market.quote}")
    if not ZERO <= reserved_pool_pct < ONE:
        raise ValueError(f"reserved_pool_pct must be in [0, 1), got {reserved_pool_pct}")
    balances = tuple(balances)
    estimate = estimate_total_krw(balances, prices_krw)
    by_currency = {balance.currency: balance for balance in balances}
    cash = by_currency.get(KRW)
    coin = by_currency.get(market.base)
    position = Position(
        market=market,
        size=coin.total if coin else ZERO,
        avg_price=coin.avg_buy_price if coin else ZERO,
    )
    return AccountView(
        holdings=estimate.holdings,
        cash_krw=cash.balance if cash else ZERO,
        locked_krw=cash.locked if cash else ZERO,
        equity_krw=estimate.equity_krw,
        reserved_pool_krw=round_krw(reserved_pool_pct * estimate.equity_krw),
        position=position,
        unpriced=estimate.unpriced,
    )
