"""``PreTradeGate``: the one check every order passes, in front of the order gateway.

Modelled on nautilus_trader's ``RiskEngine``: the gate *is* the order gateway the rest
of the code is given, so no path (a cycle's order, a TWAP slice, a resumed TWAP, a final
sweep, a stop-loss exit, a portfolio's netted order) can send an order without it. The
risk manager checks decisions and sized proposals; the gate checks the order itself, as
it will be sent, against fresh market and account data:

========================  ====================================================  ==========
reason                    refused when                                          blocks
========================  ====================================================  ==========
``kill_switch``           the kill-switch file exists                           every order
``lease_lost``            this process no longer holds the account's lease      every order
``unsettled_orders``      an earlier order's fate is unknown                    buys
``reduce_only``           ``risk.reduce_only`` is set                           buys
``daily_loss_limit``      equity fell the configured share or amount below its  buys
                          first value today (KST), same mode only
``max_trade_value``       the order's notional is above ``risk.max_trade_value``  buys
``max_position_size``     the position after the order is worth more than the   buys
                          position cap: ``risk.max_position_krw``, or the share
                          ``risk.max_position_size`` of equity if smaller
``price_band``            a limit price (or, for market orders, the best        every order
                          quote) is further than ``risk.price_band_bps`` from
                          the book's mid; or the book has no two sides
``insufficient_balance``  the free balance cannot pay for the order and fee     every order
``gate_data_unavailable`` the book or the account could not be read             every order
========================  ====================================================  ==========

Exits (sells) pass the daily-loss and state checks on purpose: they reduce risk. Only
the kill switch stops everything, by design ("hands off").

A refusal raises ``OrderRefused`` (a ``RejectedError``): the ``OrderExecutor`` records it
on the order's row with its reason and reports ``refused``; nothing reaches the exchange.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .domain import (
    BPS,
    ONE,
    ZERO,
    Balance,
    Market,
    Mode,
    Order,
    Orderbook,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from .errors import OrderRefused, RetryableError
from .market.equity import estimate_total_krw
from .ports import Account, MarketData, OrderGateway, Store
from .risk import daily_loss_hit, start_of_day_kst

log = logging.getLogger(__name__)

KILL_SWITCH = "kill_switch"
LEASE_LOST = "lease_lost"
UNSETTLED_ORDERS = "unsettled_orders"
REDUCE_ONLY = "reduce_only"
DAILY_LOSS_LIMIT = "daily_loss_limit"
MAX_TRADE_VALUE = "max_trade_value"
MAX_POSITION_SIZE = "max_position_size"
PRICE_BAND = "price_band"
INSUFFICIENT_BALANCE = "insufficient_balance"
DATA_UNAVAILABLE = "gate_data_unavailable"

KRW = "KRW"


@dataclass(frozen=True, slots=True, kw_only=True)
class GateRules:
    """What the gate enforces for one account holder (a strategy, or a portfolio).

    ``None`` switches a limit off (a portfolio's netted order has no per-trade cap of
    its own: its members' orders were each gated against theirs).
    ``max_position_share`` is the share of equity the position may reach; the tighter
    of it and ``max_position_krw`` binds.
    """

    owner: str
    mode: Mode
    kill_switch: Callable[[], bool]
    max_trade_value: Decimal | None = None
    max_position_krw: Decimal | None = None
    max_position_share: Decimal | None = None
    daily_loss_limit_pct: Decimal | None = None
    daily_loss_limit_krw: Decimal | None = None
    reduce_only: bool = False
    price_band_bps: Decimal = Decimal(1000)
    holds_account: Callable[[], bool] = lambda: True


@dataclass(frozen=True, slots=True)
class Exposure:
    """A planned order as a whole (a TWAP's parent), checked before its first slice."""

    market: Market
    side: Side
    notional: Decimal | None = None
    volume: Decimal | None = None


class PreTradeGate:
    """An ``OrderGateway`` that refuses any order the rules do not allow.

    Args:
        gateway: where approved orders go (the Bithumb client, a paper exchange, or a
            portfolio's ledger exchange).
        market_data: fresh books and prices for the checks.
        account: balances and fees of the account the orders spend from.
        store: the same-mode history the daily loss and unsettled checks read.
        rules: the limits.
        now: the injected clock's ``now`` (the day's start is 00:00 KST).
    """

    def __init__(
        self,
        gateway: OrderGateway,
        *,
        market_data: MarketData,
        account: Account,
        store: Store,
        rules: GateRules,
        now: Callable[[], datetime],
    ) -> None:
        self._gateway = gateway
        self._data = market_data
        self._account = account
        self._store = store
        self.rules = rules
        self._now = now

    # -- the gateway ------------------------------------------------------------------
    async def place_order(self, request: OrderRequest) -> Order:
        """Send ``request`` if every rule allows it.

        Raises:
            OrderRefused: a rule refused it; ``reason`` names which.
        """
        await self.check(request)
        return await self._gateway.place_order(request)

    async def get_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        return await self._gateway.get_order(order_id=order_id, client_order_id=client_order_id)

    async def cancel_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> None:
        await self._gateway.cancel_order(order_id=order_id, client_order_id=client_order_id)

    async def open_orders(self, market: Market) -> list[Order]:
        return await self._gateway.open_orders(market)

    # -- the checks -------------------------------------------------------------------
    def halted_by_kill_switch(self) -> bool:
        """The one check that needs no I/O; a TWAP asks it before every slice."""
        return self.rules.kill_switch()

    async def check(self, request: OrderRequest) -> None:
        """Refuse ``request`` (raise ``OrderRefused``) unless every rule allows it."""
        view = await self._read(request.market, request.side)
        price = request.price if request.order_type is OrderType.LIMIT else None
        await self._verify(view, cost=_cost(request, view.book),
                           volume=_volume(request, view.book), price=price,
                           exclude=request.client_order_id)

    async def preflight(self, exposure: Exposure) -> None:
        """Refuse a planned order as a whole (a TWAP) before anything is recorded or sent.

        The same rules as ``check``, on the total: a TWAP whose total the caps or the
        balance cannot allow is refused up front, not slice by slice.
        """
        view = await self._read(exposure.market, exposure.side)
        best = _best(view.book, exposure.side)
        cost = exposure.notional if exposure.notional is not None else (
            (exposure.volume or ZERO) * best)
        volume = exposure.volume if exposure.volume is not None else cost / best
        await self._verify(view, cost=cost, volume=volume, price=None, exclude=None)

    async def _verify(self, view: _View, *, cost: Decimal, volume: Decimal,
                      price: Decimal | None, exclude: str | None) -> None:
        """Every rule in order; a buy adds new risk, a sell reduces it."""
        if view.side is Side.BUY:
            self._check_state(exclude=exclude)
            await self._check_new_risk(view)
            self._check_caps(view, cost, volume)
            await self._check_share(view, volume)
        self._check_band(view.book, view.side, price)
        _check_balance(view, cost, volume)

    async def _read(self, market: Market, side: Side) -> _View:
        if self.rules.kill_switch():
            # First, and before any I/O: hands off means hands off, even offline.
            raise OrderRefused(KILL_SWITCH, "the kill-switch file exists: no orders at all")
        if not self.rules.holds_account():
            raise OrderRefused(LEASE_LOST, "another process may hold this account now")
        try:
            book, balances, chance = await asyncio.gather(
                self._data.orderbook(market), self._account.accounts(),
                self._account.order_chance(market))
        except RetryableError as exc:
            raise OrderRefused(DATA_UNAVAILABLE,
                               f"cannot read the book or account: {exc}") from exc
        if book.best_bid is None or book.best_ask is None or book.best_bid >= book.best_ask:
            raise OrderRefused(PRICE_BAND, f"the {market} book is not two-sided and uncrossed")
        return _View(market, side, book, balances, chance.taker_fee(side))

    def _check_state(self, *, exclude: str | None) -> None:
        if self.rules.reduce_only:
            raise OrderRefused(REDUCE_ONLY, "risk.reduce_only is set: sells only")
        unknown = [o.client_order_id
                   for o in self._store.unsettled_orders(self.rules.owner, self.rules.mode)
                   if o.state == OrderState.UNKNOWN.value and o.client_order_id != exclude]
        if unknown:
            raise OrderRefused(UNSETTLED_ORDERS,
                               f"orders of unknown fate must be settled first: {unknown[:3]}")

    async def _check_new_risk(self, view: _View) -> None:
        rules = self.rules
        if rules.daily_loss_limit_pct is None and rules.daily_loss_limit_krw is None:
            return
        day_start = start_of_day_kst(self._now())
        start = self._store.first_equity_since(rules.owner, day_start, rules.mode)
        if start is None:
            return  # the first cycle of the day sets the baseline
        equity = await self._equity(view)
        if daily_loss_hit(start, equity - start, pct=rules.daily_loss_limit_pct,
                          krw=rules.daily_loss_limit_krw):
            raise OrderRefused(DAILY_LOSS_LIMIT, f"equity {equity} KRW is {start - equity} "
                                                 f"below today's first {start}")

    async def _equity(self, view: _View) -> Decimal:
        """Equity as the snapshot values it: every balance at its KRW last price. Read
        once per check, and only by the rules that need it."""
        if view.equity is not None:
            return view.equity
        prices: dict[str, Decimal] = {view.market.base: view.mid}
        others = [Market(KRW, b.currency) for b in view.balances
                  if b.total > 0 and b.currency not in (KRW, view.market.base)]
        if others:
            try:
                known = {m.base for m in await self._data.markets()}
                tickers = await self._data.tickers([m for m in others if m.base in known])
            except RetryableError as exc:
                raise OrderRefused(DATA_UNAVAILABLE, f"cannot price the account: {exc}") from exc
            prices.update({t.market.base: t.last_price for t in tickers})
        view.equity = estimate_total_krw(view.balances, prices).equity_krw
        return view.equity

    def _check_caps(self, view: _View, cost: Decimal, volume: Decimal) -> None:
        rules = self.rules
        if rules.max_trade_value is not None and cost > rules.max_trade_value:
            raise OrderRefused(MAX_TRADE_VALUE,
                               f"{cost} KRW is above risk.max_trade_value "
                               f"{rules.max_trade_value} KRW")
        if rules.max_position_krw is None:
            return
        after = view.position_after(volume)
        if after > rules.max_position_krw:
            raise OrderRefused(MAX_POSITION_SIZE,
                               f"the position would be worth {after.quantize(ONE)} KRW, above"
                               f" the cap of {rules.max_position_krw} KRW")

    async def _check_share(self, view: _View, volume: Decimal) -> None:
        """The position cap as a share of equity; equity is read only when one is set."""
        share = self.rules.max_position_share
        if share is None:
            return
        after = view.position_after(volume)
        cap = share * await self._equity(view)
        if after > cap:
            raise OrderRefused(MAX_POSITION_SIZE,
                               f"the position would be worth {after.quantize(ONE)} KRW, above"
                               f" {share} of equity ({cap.quantize(ONE)} KRW)")

    def _check_band(self, book: Orderbook, side: Side, price: Decimal | None) -> None:
        mid = _mid(book)
        quoted = price if price is not None else _best(book, side)
        off = abs(quoted - mid) / mid * BPS
        if off > self.rules.price_band_bps:
            what = "limit price" if price is not None else "best quote"
            raise OrderRefused(PRICE_BAND,
                               f"{what} {quoted} is {off.quantize(ONE)} bps from the book's "
                               f"mid {mid}; the band is {self.rules.price_band_bps} bps")


@dataclass(slots=True)
class _View:
    """What one check reads: the book, the balances and the taker fee, fetched together;
    the account's equity is added once, if a rule asks for it."""

    market: Market
    side: Side
    book: Orderbook
    balances: Sequence[Balance]
    fee: Decimal
    equity: Decimal | None = None

    @property
    def mid(self) -> Decimal:
        return _mid(self.book)

    def free(self, currency: str) -> Decimal:
        return sum((b.balance for b in self.balances if b.currency == currency), ZERO)

    def position_after(self, volume: Decimal) -> Decimal:
        """KRW value, at the mid, of the coin held once ``volume`` more is bought."""
        held = sum((b.total for b in self.balances if b.currency == self.market.base), ZERO)
        return (held + volume) * self.mid


def _check_balance(view: _View, cost: Decimal, volume: Decimal) -> None:
    market = view.market
    if view.side is Side.BUY:
        free, need, unit = view.free(market.quote), cost * (ONE + view.fee), market.quote
    else:
        free, need, unit = view.free(market.base), volume, market.base
    if need > free:
        raise OrderRefused(INSUFFICIENT_BALANCE,
                           f"needs {need} {unit} with the fee, {free} {unit} is free")


def _mid(book: Orderbook) -> Decimal:
    assert book.best_bid is not None and book.best_ask is not None
    return (book.best_bid + book.best_ask) / 2


def _best(book: Orderbook, side: Side) -> Decimal:
    best = book.best_ask if side is Side.BUY else book.best_bid
    assert best is not None
    return best


def _cost(request: OrderRequest, book: Orderbook) -> Decimal:
    """KRW the order moves if it executes against this book: a market buy's notional;
    otherwise its volume walked through the opposite side (up to a limit price, the
    rest resting at that limit; beyond the book's depth, at the last level's price)."""
    if request.notional is not None:
        return request.notional
    left, cost = request.volume or ZERO, ZERO
    limit = request.price
    for level in book.side_levels(request.side):
        if left <= 0:
            break
        beyond = limit is not None and (level.price > limit if request.side is Side.BUY
                                        else level.price < limit)
        if beyond:
            break
        take = min(left, level.size)
        cost += take * level.price
        left -= take
    if left > 0:
        rest = limit if limit is not None else _worst(book, request.side)
        cost += left * rest
    return cost


def _worst(book: Orderbook, side: Side) -> Decimal:
    levels = book.side_levels(side)
    return levels[-1].price if levels else _best(book, side)


def _volume(request: OrderRequest, book: Orderbook) -> Decimal:
    if request.volume is not None:
        return request.volume
    return (request.notional or ZERO) / _best(book, request.side)
