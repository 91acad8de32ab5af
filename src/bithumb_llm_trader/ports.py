"""The seams between the trading core and the outside world, as ``typing.Protocol``s.

The engine talks to an ``Exchange`` (the Bithumb client, or the paper exchange), a
``Decider`` (a language model, or rules), a ``Clock`` and a ``Store``. Tests plug in
fakes; ``bootstrap`` plugs in the real adapters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from .domain import (
    Balance,
    Candle,
    CandleInterval,
    Market,
    Order,
    Orderbook,
    OrderChance,
    OrderRequest,
    Ticker,
)
from .records import (
    FillRecord,
    OrderRecord,
    PaperBalanceRecord,
    PaperOrderRecord,
    PositionGuardRecord,
    Record,
    RunUpdate,
    TwapRunRecord,
    TwapSliceRecord,
)

if TYPE_CHECKING:  # type-only: these modules sit above ports in the import order
    from .decision import DecisionOutcome
    from .market import MarketSnapshot
    from .prompts import Prompt


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MarketData(Protocol):
    """Public market data. Candles come oldest first."""

    async def markets(self) -> list[Market]: ...

    async def ticker(self, market: Market) -> Ticker: ...

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]: ...

    async def orderbook(self, market: Market) -> Orderbook: ...

    async def candles(
        self,
        market: Market,
        interval: CandleInterval,
        count: int,
        to: datetime | None = None,
    ) -> list[Candle]: ...


class Account(Protocol):
    """Balances, fees and limits of the trading account."""

    async def accounts(self) -> list[Balance]: ...

    async def order_chance(self, market: Market) -> OrderChance: ...


class OrderGateway(Protocol):
    """Placing and following orders. ``place_order`` is never retried blindly."""

    async def place_order(self, request: OrderRequest) -> Order: ...

    async def get_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order: ...

    async def cancel_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> None: ...

    async def open_orders(self, market: Market) -> list[Order]: ...


class Exchange(MarketData, Account, OrderGateway, Protocol):
    """Everything a trading cycle needs from an exchange, live or paper."""


class Decider(Protocol):
    """Turns a prompt and the snapshot behind it into a validated decision.

    Never raises for a model fault: anything invalid comes back as HOLD with the reason.
    """

    name: str
    needs_prompt: bool
    """False for deciders that read only the snapshot; the engine then skips the prompt."""

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome: ...


class Store(Protocol):
    """Persistence of every step of every cycle."""

    def write(self, records: Sequence[Record]) -> None:
        """Insert ``records`` in one transaction: all of them or none."""
        ...

    def update_run(self, run_id: str, update: RunUpdate) -> None: ...

    def save_order(self, order: OrderRecord) -> None:
        """Insert or replace the order with this ``client_order_id``, committed (with
        whatever the cycle held back) before it returns: a pending order is on disk
        before it is sent."""
        ...

    def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    def unsettled_orders(self, strategy: str, mode: str) -> list[OrderRecord]:
        """Orders of ``strategy`` in ``mode`` whose state is not final, oldest first."""
        ...

    def save_fills_and_order(self, order: OrderRecord, fills: Sequence[FillRecord]) -> None:
        """Update an order and add its new fills together; known fills are skipped."""
        ...

    def first_equity_since(self, strategy: str, since: datetime, mode: str) -> Decimal | None:
        """Total equity of the first cycle of ``mode`` at or after ``since``.

        Every read that decides takes the mode: rows of another mode never count.
        """
        ...

    def last_trade_at(self, strategy: str, mode: str) -> datetime | None:
        """When the strategy last had an order fill in ``mode``, for cooldowns."""
        ...

    def load_guard(self, strategy: str, market: str, mode: str) -> PositionGuardRecord | None: ...

    def save_guard(self, guard: PositionGuardRecord) -> None: ...

    def clear_guard(self, strategy: str, market: str, mode: str) -> None: ...

    def load_paper_state(
        self, strategy: str
    ) -> tuple[list[PaperBalanceRecord], list[PaperOrderRecord]]:
        """The paper wallet and the paper exchange's orders (empty lists when new)."""
        ...

    def save_paper_state(
        self,
        strategy: str,
        balances: Sequence[PaperBalanceRecord],
        orders: Sequence[PaperOrderRecord],
    ) -> None:
        """Replace the wallet and upsert the given orders in one transaction."""
        ...

    def reset_paper_state(self, strategy: str) -> None: ...

    def cache_get(self, key: str) -> str | None: ...

    def cache_put(self, key: str, model: str, value: str) -> None: ...

    def save_twap_run(self, run: TwapRunRecord) -> None: ...

    def load_twap_run(self, twap_run_id: str) -> TwapRunRecord | None: ...

    def save_twap_slice(self, twap_slice: TwapSliceRecord) -> None: ...

    def load_twap_slices(self, twap_run_id: str) -> list[TwapSliceRecord]: ...
