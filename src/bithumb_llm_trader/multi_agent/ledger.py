"""Per-strategy ledgers: who owns what inside the one exchange account.

The exchange knows one account; the portfolio knows which part of it each strategy
owns. A ``Ledger`` is a strategy's wallet (KRW and coins, with average buy prices) and
its orders, persisted with the store's paper-state methods under a ledger key of its
own (``<portfolio>/<strategy>``), so they survive restarts and never mix with the
wallet a ``bithumb-trader run`` of the same strategy keeps. ``LedgerExchange`` is the
``ports.Exchange`` a strategy's engine trades on: shared market data, its own ledger as
the account, and orders routed to the portfolio's netting desk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ..domain import (
    ONE,
    ZERO,
    Balance,
    Fill,
    Market,
    Order,
    OrderChance,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from ..errors import ExchangeRejected, InvalidOrder, OrderNotFound
from ..market_relay import MarketDataRelay
from ..paper import PaperStateStore, PaperWallet
from ..paper.orders import order_from_json, order_to_json
from ..ports import Account, Clock
from ..records import PaperOrderRecord
from .market_cache import SharedMarketData
from .netting import Intent, NettingPlan, Share, share_price

KRW = "KRW"
KEY_LIMIT = 64
"""Length of the store's strategy column, which holds the ledger key."""


def book_owner(portfolio: str, mode: str) -> str:
    """Under which name a portfolio keeps its ledgers and netting plans in ``mode``.

    A dry run's paper ledgers must never be a live run's (the usual path runs dry first,
    in the same database), so every mode but dry is a name of its own; dry keeps the
    plain name it always had. Portfolio names are at most 32 of ``[A-Za-z0-9_.-]``, so
    ``@`` cannot clash and the keys stay within ``KEY_LIMIT``.
    """
    return portfolio if mode == "dry" else f"{portfolio}@{mode}"


def ledger_key(portfolio: str, strategy: str) -> str:
    """``<portfolio>/<strategy>``, or a digest of the strategy name when that is too long."""
    key = f"{portfolio}/{strategy}"
    if len(key) <= KEY_LIMIT:
        return key
    return f"{portfolio}/#{hashlib.sha256(strategy.encode('utf-8')).hexdigest()[:24]}"


class Ledger:
    """One strategy's cash, coins and orders, kept in the store after every change."""

    def __init__(self, store: PaperStateStore, key: str, clock: Clock) -> None:
        self.key = key
        self._store = store
        self._clock = clock
        self._wallet: PaperWallet | None = None
        self._orders: dict[str, Order] = {}

    def load(self) -> bool:
        """Read the ledger from the store; False when it does not exist yet."""
        balances, orders = self._store.load_paper_state(self.key)
        self._orders = {}
        for record in orders:
            order = order_from_json(record.order_json)
            self._orders[record.client_order_id] = order
        self._wallet = PaperWallet.from_records(balances)
        return bool(balances or orders)

    def seed(self, balances: Mapping[str, Decimal]) -> None:
        """Start the ledger with ``balances`` (its first cycle in this portfolio)."""
        self._wallet = PaperWallet(balances)
        self._save(())

    @property
    def wallet(self) -> PaperWallet:
        if self._wallet is None:
            self.load()
        assert self._wallet is not None
        return self._wallet

    def balances(self) -> list[Balance]:
        return self.wallet.balances()

    def now(self) -> datetime:
        return self._clock.now()

    def find(self, *, order_id: str | None = None,
             client_order_id: str | None = None) -> Order | None:
        if client_order_id is not None:
            return self._orders.get(client_order_id)
        return next((o for o in self._orders.values() if o.order_id == order_id), None)

    def apply(self, share: Share, plan: NettingPlan) -> Order:
        """Book ``share`` once: move the wallet and record the intent's order, together."""
        intent = share.intent
        known = self._orders.get(intent.client_order_id)
        if known is not None and known.state.is_final:
            return known  # already applied before a restart
        order = share_order(share, plan, self._clock.now())
        self._move(intent, share)
        self._orders[intent.client_order_id] = order
        self._save((order,), plan.netting_id)
        return order

    def mark_unknown(self, intent: Intent, plan: NettingPlan) -> Order:
        """Record that the intent's netted order is of unknown fate; nothing moves yet."""
        order = intent_order(intent, OrderState.UNKNOWN, self._clock.now())
        self._orders[intent.client_order_id] = order
        self._save((order,), plan.netting_id)
        return order

    def _move(self, intent: Intent, share: Share) -> None:
        wallet, base = self.wallet, intent.market.base
        if share.volume <= 0:
            return
        if intent.side is Side.BUY:
            wallet.spend(KRW, share.funds + share.fee)
            wallet.record_buy(base, share.volume, share.funds)
        else:
            wallet.spend(base, share.volume)
            wallet.receive(KRW, share.funds - share.fee)
            wallet.after_sell(base)

    def _save(self, orders: Sequence[Order], netting_id: str | None = None) -> None:
        now = self._clock.now()
        records = [
            PaperOrderRecord(
                strategy=self.key, order_id=order.order_id,
                client_order_id=order.client_order_id or order.order_id,
                state=order.state.value, updated_at=now,
                order_json={**order_to_json(order), "netting_id": netting_id},
            )
            for order in orders
        ]
        self._store.save_paper_state(self.key, self.wallet.to_records(self.key, now), records)


def intent_order(intent: Intent, state: OrderState, now: datetime) -> Order:
    """The intent as an order with nothing executed yet."""
    is_buy = intent.side is Side.BUY
    return Order(
        order_id=f"ledger-{intent.client_order_id}",
        client_order_id=intent.client_order_id,
        market=intent.market, side=intent.side, order_type=OrderType.MARKET,
        state=state, created_at=now,
        price=intent.requested if is_buy else None,
        volume=None if is_buy else intent.requested,
        remaining_volume=ZERO if is_buy else intent.requested,
    )


def share_order(share: Share, plan: NettingPlan, now: datetime) -> Order:
    """The order a strategy sees for its intent: one fill inside, one from outside."""
    intent = share.intent
    fills = []
    if share.cross_volume > 0:
        fills.append(Fill(trade_id=f"{plan.netting_id}-cross", price=plan.price,
                          volume=share.cross_volume, funds=share.cross_funds,
                          created_at=now, fee=ZERO))
    if share.external_volume > 0:
        price = share_price(share.external_funds, share.external_volume)
        assert price is not None
        fills.append(Fill(trade_id=f"{plan.netting_id}-fill", price=price,
                          volume=share.external_volume, funds=share.external_funds,
                          created_at=now, fee=share.fee))
    state = OrderState.DONE if share.complete else OrderState.CANCEL
    order = intent_order(intent, state, now)
    remaining = ZERO if intent.side is Side.BUY else max(intent.requested - share.volume, ZERO)
    return replace(order, remaining_volume=remaining, executed_volume=share.volume,
                   executed_funds=share.funds, paid_fee=share.fee, fills=tuple(fills))


class IntentRouter(Protocol):
    """Where a ledger exchange sends orders: the portfolio's netting desk."""

    def refusal(self, side: Side) -> str | None:
        """Why the portfolio refuses new orders of ``side`` now (a HALT), or None."""
        ...

    def in_flight(self, client_order_id: str) -> Intent | None:
        """The intent, when its netted order's fate is not yet known."""
        ...

    async def submit(self, intent: Intent) -> Order: ...


class LedgerExchange(MarketDataRelay):
    """``ports.Exchange`` for one strategy inside a portfolio.

    Market data is the cycle's shared read; ``accounts()`` is the strategy's ledger, so
    its equity, PnL and daily loss are its own; orders go to the portfolio's desk.
    """

    def __init__(
        self,
        strategy: str,
        ledger: Ledger,
        market_data: SharedMarketData,
        account: Account,
        router: IntentRouter,
    ) -> None:
        super().__init__(market_data)
        self.strategy = strategy
        self.ledger = ledger
        self._data = market_data
        self._account = account
        self._router = router

    # -- account ----------------------------------------------------------------------
    async def accounts(self) -> list[Balance]:
        return self.ledger.balances()

    async def order_chance(self, market: Market) -> OrderChance:
        return await self._data.once(("chance", market),
                                     lambda: self._account.order_chance(market))

    # -- orders -----------------------------------------------------------------------
    async def place_order(self, request: OrderRequest) -> Order:
        """Check the order against the ledger, then wait for the desk's netted fill."""
        refusal = self._router.refusal(request.side)
        if refusal is not None:
            raise InvalidOrder(f"portfolio refuses new orders: {refusal}")
        cid = request.client_order_id
        if self.ledger.find(client_order_id=cid) or self._router.in_flight(cid):
            raise ExchangeRejected(f"client_order_id {cid} already used", status=400,
                                   name="duplicate_client_order_id")
        if request.order_type is not OrderType.MARKET:
            raise InvalidOrder("a portfolio nets market orders only; limit orders are refused")
        amount = await self._checked_amount(request)
        intent = Intent(strategy=self.strategy, client_order_id=cid, market=request.market,
                        side=request.side, amount=amount, requested=amount)
        return await self._router.submit(intent)

    async def _checked_amount(self, request: OrderRequest) -> Decimal:
        wallet = self.ledger.wallet
        if request.side is Side.SELL:
            assert request.volume is not None
            wallet.require(request.market.base, request.volume)
            return request.volume
        assert request.notional is not None
        chance = await self.order_chance(request.market)
        if request.notional < chance.min_total:
            raise ExchangeRejected(f"order total {request.notional} is under the minimum "
                                   f"{chance.min_total}", status=400, name="under_min_total")
        wallet.require(KRW, request.notional * (ONE + chance.bid_fee))
        return request.notional

    async def get_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        found = self.ledger.find(order_id=order_id, client_order_id=client_order_id)
        if found is not None:
            return found
        cid = client_order_id or (order_id or "").removeprefix("ledger-")
        pending = self._router.in_flight(cid) if cid else None
        if pending is not None:
            return intent_order(pending, OrderState.UNKNOWN, self.ledger.now())
        raise OrderNotFound(f"ledger order {order_id or client_order_id} not found",
                            status=404, name="order_not_found")

    async def cancel_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> None:
        order = await self.get_order(order_id=order_id, client_order_id=client_order_id)
        raise ExchangeRejected(f"ledger order {order.order_id} is {order.state.value}",
                               status=400, name="order_not_cancellable")

    async def open_orders(self, market: Market) -> list[Order]:
        return []  # intents are settled within their cycle; nothing rests

