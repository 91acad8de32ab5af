"""One desk batch: capped by the gross exposure limit, netted per market, settled.

The markets of a batch are settled concurrently; each market's result (or the error
that stopped it) goes back to exactly the intents of that market, so a fault on one
market never touches another's strategies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from decimal import Decimal

from ..domain import ZERO, Market, OrderChance, Side, round_krw
from ..market.sanity import check_orderbook
from ..order_ids import netting_id
from . import capital
from .desk import Outcome
from .market_cache import SharedMarketData
from .netting import Intent, cross_price, plan_netting
from .settlement import Settlement, Settler

log = logging.getLogger(__name__)


class BatchSettler:
    """Turns a batch of intents into one netting plan per market and settles them."""

    def __init__(
        self,
        settler: Settler,
        market_data: SharedMarketData,
        chance: Callable[[Market], Awaitable[OrderChance]],
        ids: Callable[[], str],
    ) -> None:
        self._settler = settler
        self._data = market_data
        self._chance = chance
        self._ids = ids

    async def settle(
        self,
        intents: list[Intent],
        run_id: str,
        *,
        prices: Mapping[str, Decimal],
        headroom_krw: Decimal,
    ) -> tuple[dict[str, Outcome], list[Settlement]]:
        """Each intent's order (or error), and every market's settlement."""
        by_market: dict[Market, list[Intent]] = {}
        for intent in within_exposure(intents, prices, headroom_krw):
            by_market.setdefault(intent.market, []).append(intent)
        settled = await asyncio.gather(
            *(self._settle_market(market, group, run_id) for market, group in by_market.items()),
            return_exceptions=True,
        )
        outcomes: dict[str, Outcome] = {}
        settlements = []
        for group, settlement in zip(by_market.values(), settled, strict=True):
            if isinstance(settlement, Settlement):
                settlements.append(settlement)
                outcomes.update(settlement.orders)
                outcomes.update(settlement.errors)
                continue
            error = settlement if isinstance(settlement, Exception) else RuntimeError(
                f"settlement interrupted: {settlement!r}")
            outcomes.update({intent.client_order_id: error for intent in group})
        return outcomes, settlements

    async def _settle_market(self, market: Market, intents: list[Intent], run_id: str
                             ) -> Settlement:
        book = await self._data.orderbook(market)
        # The strategies cross at the book's mid: a book that cannot be true (empty,
        # crossed, unsorted, zero prices) would move value between their ledgers.
        check_orderbook(book)
        best_bid, best_ask = book.bids[0].price, book.asks[0].price
        chance = await self._chance(market)
        plan = plan_netting(netting_id(self._ids()), market, intents,
                            price=cross_price(best_bid, best_ask),
                            min_order_krw=chance.min_total)
        return await self._settler.settle(plan, run_id)


def within_exposure(
    intents: list[Intent], prices: Mapping[str, Decimal], headroom_krw: Decimal
) -> list[Intent]:
    """Scale buys down, all alike, when they would lift coins above the exposure cap."""
    buys = sum((i.amount for i in intents if i.side is Side.BUY), ZERO)
    sells = sum((i.amount * prices.get(i.market.base, ZERO)
                 for i in intents if i.side is Side.SELL), ZERO)
    scale = capital.exposure_scale(buys, sells, headroom_krw=headroom_krw)
    if scale >= 1:
        return intents
    log.warning("max_gross_exposure: buys scaled to %s of what was asked", scale)
    return [replace(i, amount=round_krw(i.amount * scale)) if i.side is Side.BUY else i
            for i in intents]
