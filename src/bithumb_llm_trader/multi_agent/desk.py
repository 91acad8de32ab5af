"""The netting desk: one cycle's barrier between the strategies and the exchange.

Each strategy's engine runs its cycle as if alone; when it places an order, the order
waits here. Once every strategy has either placed its order or finished its cycle, the
desk hands all waiting orders to ``settle`` at once (which nets them per market and
sends one order per market), then answers each waiting strategy with its own share.
A strategy that fails, holds or is halted simply finishes: nobody waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping

from ..domain import Order
from .netting import Intent

Outcome = Order | Exception
SettleBatch = Callable[[list[Intent]], Awaitable[Mapping[str, Outcome]]]


class NettingDesk:
    """Collects the cycle's intents until no strategy is still deciding, then settles.

    Args:
        participants: the strategies running this cycle.
        settle: nets and executes a batch; returns, per client order id, the intent's
            order or the error its strategy should see.
    """

    def __init__(self, participants: Iterable[str], settle: SettleBatch) -> None:
        self._running = set(participants)
        self._settle = settle
        self._waiting: dict[str, tuple[Intent, asyncio.Future[Order]]] = {}
        self._batches: list[asyncio.Task[None]] = []

    async def submit(self, intent: Intent) -> Order:
        """Wait for the barrier, then for this intent's share of the netted fill."""
        future: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._waiting[intent.client_order_id] = (intent, future)
        self._running.discard(intent.strategy)
        self._release_if_ready()
        try:
            return await future
        finally:
            self._waiting.pop(intent.client_order_id, None)  # cancelled before the barrier
            self._running.add(intent.strategy)  # running again until it finishes

    def finished(self, strategy: str) -> None:
        """``strategy`` ended its cycle (any way at all); stop waiting for it."""
        self._running.discard(strategy)
        self._release_if_ready()

    async def drain(self) -> None:
        """Wait until every batch is settled and recorded."""
        while self._batches:
            batch = self._batches.pop(0)
            await batch

    def _release_if_ready(self) -> None:
        if self._running or not self._waiting:
            return
        batch, self._waiting = self._waiting, {}
        self._batches.append(asyncio.ensure_future(self._run(batch)))

    async def _run(self, batch: dict[str, tuple[Intent, asyncio.Future[Order]]]) -> None:
        intents = [intent for intent, _ in batch.values()]
        try:
            outcomes: Mapping[str, Outcome] = await self._settle(intents)
        except Exception as exc:  # every waiting strategy learns why
            outcomes = dict.fromkeys(batch, exc)
        for cid, (_, future) in batch.items():
            if future.done():
                continue
            outcome = outcomes.get(cid) or RuntimeError(f"intent {cid} was not settled")
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
