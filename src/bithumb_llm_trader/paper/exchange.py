"""``PaperExchange``: the live exchange's port, with fills simulated on the real book.

Market data comes from a real source (the Bithumb client's public calls, or a backtest's
recorded candles). Orders are filled by walking the current orderbook level by level,
so a thin book gives a partial fill and a big order pays its real slippage. Limit
orders that are not marketable rest, and are checked against the book each time they
are looked up (the engine does so at the start of every cycle). The wallet and the
orders are saved together after every change, so a crash never leaves a fill without
its balance, and an order placed before a crash can be looked up afterwards, exactly as
on the real exchange.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ..domain import (
    ONE,
    ZERO,
    Balance,
    Market,
    Order,
    Orderbook,
    OrderChance,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
    round_price,
)
from ..errors import ExchangeRejected, OrderNotFound, TraderError
from ..liquidity import LevelFill, walk_book
from ..market_relay import MarketDataRelay
from ..ports import Account, Clock, MarketData
from ..records import PaperBalanceRecord, PaperOrderRecord
from .orders import add_fills, order_from_json, order_to_json
from .wallet import PaperWallet

log = logging.getLogger(__name__)


class PaperStateStore(Protocol):
    def load_paper_state(
        self, strategy: str
    ) -> tuple[list[PaperBalanceRecord], list[PaperOrderRecord]]: ...

    def save_paper_state(
        self,
        strategy: str,
        balances: Sequence[PaperBalanceRecord],
        orders: Sequence[PaperOrderRecord],
    ) -> None: ...

    def reset_paper_state(self, strategy: str) -> None: ...


class PaperExchange(MarketDataRelay):
    """A simulated account on top of real market data; implements ``ports.Exchange``."""

    def __init__(
        self,
        source: MarketData,
        store: PaperStateStore,
        *,
        strategy: str,
        initial_balances: Mapping[str, Decimal],
        clock: Clock,
        fee_rate: Decimal,
        min_order_krw: Decimal,
        account_source: Account | None = None,
    ) -> None:
        super().__init__(source)
        self._store = store
        self._strategy = strategy
        self._initial = dict(initial_balances)
        self._clock = clock
        self._fee_rate = fee_rate
        self._min_order = min_order_krw
        self._account_source = account_source
        self._chances: dict[str, OrderChance] = {}
        self._wallet: PaperWallet | None = None
        # Open orders and the most recent final ones stay in memory; older final ones
        # are read back from the store when asked for, so memory stays flat however
        # many orders a long dry run or a backtest places.
        self._orders: dict[str, Order] = {}
        self._recent_final: deque[str] = deque()
        self._client_ids: set[str] = set()

    # -- account ---------------------------------------------------------------------
    async def accounts(self) -> list[Balance]:
        return self._loaded_wallet().balances()

    async def order_chance(self, market: Market) -> OrderChance:
        """The account's real fees when keys allow reading them, else the configured ones."""
        key = str(market)
        if key not in self._chances:
            self._chances[key] = await self._read_chance(market)
        return self._chances[key]

    async def _read_chance(self, market: Market) -> OrderChance:
        if self._account_source is not None:
            try:
                return await self._account_source.order_chance(market)
            except TraderError as exc:
                log.warning("paper: using configured fees; cannot read account fees: %s", exc)
        rate = self._fee_rate
        return OrderChance(
            market=market, bid_fee=rate, ask_fee=rate, maker_bid_fee=rate,
            maker_ask_fee=rate, min_total=self._min_order,
        )

    def reset(self) -> None:
        """Forget every paper balance and order of this strategy; start from the config."""
        self._store.reset_paper_state(self._strategy)
        self._wallet = None
        self._orders = {}
        self._recent_final.clear()
        self._client_ids = set()

    # -- orders --------------------------------------------------------------------------
    async def place_order(self, request: OrderRequest) -> Order:
        wallet = self._loaded_wallet()
        if self._find(client_order_id=request.client_order_id) is not None:
            raise ExchangeRejected(
                f"client_order_id {request.client_order_id} already used",
                status=400, name="duplicate_client_order_id",
            )
        chance = await self.order_chance(request.market)
        self._validate(request, chance)
        book = await self._source.orderbook(request.market)
        now = self._clock.now()
        order = Order(
            order_id=_paper_order_id(request.client_order_id),
            client_order_id=request.client_order_id,
            market=request.market,
            side=request.side,
            order_type=request.order_type,
            state=OrderState.WAIT,
            created_at=now,
            price=request.price if request.order_type is OrderType.LIMIT else request.notional,
            volume=request.volume,
            remaining_volume=request.volume or ZERO,
        )
        if request.order_type is OrderType.LIMIT:
            order = self._place_limit(wallet, order, book, chance, now)
        elif request.side is Side.BUY:
            assert request.notional is not None
            order = self._market_buy(wallet, order, request.notional, book, chance, now)
        else:
            order = self._market_sell(wallet, order, book, chance, now)
        self._save(order, now)
        return order

    async def get_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        self._loaded_wallet()
        order = self._find(order_id=order_id, client_order_id=client_order_id)
        if order is None:
            raise OrderNotFound(
                f"paper order {order_id or client_order_id} not found",
                status=404, name="order_not_found",
            )
        if order.state is OrderState.WAIT:
            order = await self._check_resting(order)
        return order

    async def cancel_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> None:
        order = await self.get_order(order_id=order_id, client_order_id=client_order_id)
        if order.state is not OrderState.WAIT:
            raise ExchangeRejected(
                f"paper order {order.order_id} is {order.state.value}",
                status=400, name="order_not_cancellable",
            )
        wallet = self._loaded_wallet()
        chance = await self.order_chance(order.market)
        wallet.unlock(self._lock_currency(order), self._lock_amount(order, chance))
        now = self._clock.now()
        self._save(replace(order, state=OrderState.CANCEL), now)

    async def open_orders(self, market: Market) -> list[Order]:
        self._loaded_wallet()
        waiting = [o for o in self._orders.values()
                   if o.market == market and o.state is OrderState.WAIT]
        checked = [await self._check_resting(o) for o in waiting]
        return [o for o in checked if o.state is OrderState.WAIT]

    # -- simulation ----------------------------------------------------------------------
    def _validate(self, request: OrderRequest, chance: OrderChance) -> None:
        if request.order_type is OrderType.LIMIT:
            assert request.price is not None and request.volume is not None
            if round_price(request.price, request.side) != request.price:
                raise ExchangeRejected(
                    f"price {request.price} is off the tick", status=400, name="invalid_price"
                )
            total = request.price * request.volume
        elif request.side is Side.BUY:
            assert request.notional is not None
            total = request.notional
        else:
            total = ZERO  # a market sell's value is only known on the book
        sized = request.order_type is OrderType.LIMIT or request.side is Side.BUY
        if sized and total < chance.min_total:
            raise ExchangeRejected(
                f"order total {total} is under the minimum {chance.min_total}",
                status=400, name="under_min_total",
            )

    def _market_buy(
        self, wallet: PaperWallet, order: Order, notional: Decimal, book: Orderbook,
        chance: OrderChance, now: datetime,
    ) -> Order:
        quote, base = order.market.quote, order.market.base
        wallet.require(quote, notional * (ONE + chance.bid_fee))
        walk = walk_book(book.asks, Side.BUY, notional=notional)
        filled = add_fills(order, walk.fills, chance.bid_fee, now)
        wallet.spend(quote, filled.executed_funds + filled.paid_fee)
        wallet.record_buy(base, filled.executed_volume, filled.executed_funds)
        return replace(filled, state=OrderState.DONE if walk.complete else OrderState.CANCEL)

    def _market_sell(
        self, wallet: PaperWallet, order: Order, book: Orderbook, chance: OrderChance,
        now: datetime,
    ) -> Order:
        quote, base = order.market.quote, order.market.base
        assert order.volume is not None
        wallet.require(base, order.volume)
        walk = walk_book(book.bids, Side.SELL, volume=order.volume)
        filled = add_fills(order, walk.fills, chance.ask_fee, now)
        wallet.spend(base, filled.executed_volume)
        wallet.receive(quote, filled.executed_funds - filled.paid_fee)
        wallet.after_sell(base)
        return replace(filled, state=OrderState.DONE if walk.complete else OrderState.CANCEL)

    def _place_limit(
        self, wallet: PaperWallet, order: Order, book: Orderbook, chance: OrderChance,
        now: datetime,
    ) -> Order:
        assert order.price is not None and order.volume is not None
        side = order.side
        if side is Side.BUY:
            worst_fee = max(chance.bid_fee, chance.maker_bid_fee)
            wallet.require(order.market.quote, order.price * order.volume * (ONE + worst_fee))
        else:
            wallet.require(order.market.base, order.volume)
        # The marketable part takes liquidity now, as a taker, at the book's prices.
        walk = walk_book(book.side_levels(side), side, volume=order.volume,
                         limit_price=order.price)
        filled = add_fills(order, walk.fills, chance.taker_fee(side), now)
        self._settle(wallet, filled, filled.executed_volume, filled.executed_funds,
                     filled.paid_fee, from_locked=False)
        # The rest rests at the limit price, with its funds locked until it fills.
        wallet.lock(self._lock_currency(filled), self._lock_amount(filled, chance))
        state = OrderState.DONE if filled.remaining_volume == 0 else OrderState.WAIT
        return replace(filled, state=state)

    async def _check_resting(self, order: Order) -> Order:
        """Fill a resting limit at its own price if the book has come through it."""
        assert order.price is not None
        book = await self._source.orderbook(order.market)
        side = order.side
        reachable = walk_book(book.side_levels(side), side, volume=order.remaining_volume,
                              limit_price=order.price)
        if reachable.volume <= 0:
            return order
        chance = await self.order_chance(order.market)
        wallet = self._loaded_wallet()
        now = self._clock.now()
        locked_before = self._lock_amount(order, chance)
        maker_fee = chance.maker_bid_fee if side is Side.BUY else chance.maker_ask_fee
        before = len(order.fills)
        filled = add_fills(order, (LevelFill(order.price, reachable.volume),), maker_fee, now)
        new = filled.fills[before:]
        volume = sum((f.volume for f in new), ZERO)
        funds = sum((f.funds for f in new), ZERO)
        fee = sum((f.fee or ZERO for f in new), ZERO)
        self._settle(wallet, filled, volume, funds, fee, from_locked=True)
        leftover = locked_before - self._lock_amount(filled, chance)
        leftover -= funds + fee if side is Side.BUY else volume
        if leftover > 0:
            wallet.unlock(self._lock_currency(filled), leftover)
        state = OrderState.DONE if filled.remaining_volume == 0 else OrderState.WAIT
        filled = replace(filled, state=state)
        self._save(filled, now)
        return filled

    def _settle(
        self, wallet: PaperWallet, order: Order, volume: Decimal, funds: Decimal,
        fee: Decimal, *, from_locked: bool,
    ) -> None:
        quote, base = order.market.quote, order.market.base
        if volume <= 0:
            return
        if order.side is Side.BUY:
            wallet.spend(quote, funds + fee, from_locked=from_locked)
            wallet.record_buy(base, volume, funds)
        else:
            wallet.spend(base, volume, from_locked=from_locked)
            wallet.receive(quote, funds - fee)
            wallet.after_sell(base)

    @staticmethod
    def _lock_currency(order: Order) -> str:
        return order.market.quote if order.side is Side.BUY else order.market.base

    @staticmethod
    def _lock_amount(order: Order, chance: OrderChance) -> Decimal:
        if order.state is not OrderState.WAIT and order.remaining_volume == 0:
            return ZERO
        if order.side is Side.SELL:
            return order.remaining_volume
        assert order.price is not None
        return order.price * order.remaining_volume * (ONE + chance.maker_bid_fee)

    # -- persistence -----------------------------------------------------------------
    def _loaded_wallet(self) -> PaperWallet:
        if self._wallet is None:
            balances, orders = self._store.load_paper_state(self._strategy)
            self._orders = {}
            self._recent_final.clear()
            self._client_ids = {rec.client_order_id for rec in orders}
            for rec in orders:
                if not OrderState(rec.state).is_final:
                    order = order_from_json(rec.order_json)
                    self._orders[order.order_id] = order
            if balances or orders:
                self._wallet = PaperWallet.from_records(balances)
            else:
                self._wallet = PaperWallet(self._initial)
                now = self._clock.now()
                self._store.save_paper_state(
                    self._strategy, self._wallet.to_records(self._strategy, now), []
                )
        return self._wallet

    def _find(self, *, order_id: str | None = None,
              client_order_id: str | None = None) -> Order | None:
        wanted = order_id if order_id is not None else _paper_order_id(client_order_id or "")
        order = self._orders.get(wanted)
        if order is None and wanted.removeprefix(_PAPER_PREFIX) in self._client_ids:
            order = self._stored_order(wanted)  # final, and no longer kept in memory
        return order

    def _stored_order(self, order_id: str) -> Order | None:
        _, records = self._store.load_paper_state(self._strategy)
        found = next((r for r in records if r.order_id == order_id), None)
        return order_from_json(found.order_json) if found is not None else None

    def _save(self, order: Order, now: datetime) -> None:
        self._orders[order.order_id] = order
        if order.client_order_id:
            self._client_ids.add(order.client_order_id)
        if order.state.is_final:
            self._recent_final.append(order.order_id)
            while len(self._recent_final) > _RECENT_FINAL_ORDERS:
                old = self._recent_final.popleft()
                if old in self._orders and self._orders[old].state.is_final:
                    del self._orders[old]
        wallet = self._loaded_wallet()
        record = PaperOrderRecord(
            strategy=self._strategy,
            order_id=order.order_id,
            client_order_id=order.client_order_id or order.order_id,
            state=order.state.value,
            updated_at=now,
            order_json=order_to_json(order),
        )
        self._store.save_paper_state(
            self._strategy, wallet.to_records(self._strategy, now), [record]
        )


_PAPER_PREFIX = "paper-"
_RECENT_FINAL_ORDERS = 16


def _paper_order_id(client_order_id: str) -> str:
    """A paper order's id is its client id, prefixed: found without a scan."""
    return _PAPER_PREFIX + client_order_id
