"""The netting desk's barrier: nobody is settled until nobody is still deciding."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from bithumb_llm_trader.domain import Market, Order, OrderState, OrderType, Side
from bithumb_llm_trader.multi_agent import Intent, NettingDesk
from bithumb_llm_trader.multi_agent.desk import Outcome

pytestmark = pytest.mark.anyio

BTC = Market("KRW", "BTC")


def intent(name: str) -> Intent:
    return Intent(strategy=name, client_order_id=f"id-{name}", market=BTC, side=Side.BUY,
                  amount=Decimal(10000), requested=Decimal(10000))


def order_for(item: Intent) -> Order:
    return Order(order_id=item.client_order_id, market=BTC, side=item.side,
                 order_type=OrderType.MARKET, state=OrderState.DONE,
                 created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))


class Recorder:
    def __init__(self, fail: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    async def __call__(self, intents: list[Intent]) -> Mapping[str, Outcome]:
        self.batches.append(sorted(i.strategy for i in intents))
        if self.fail:
            raise RuntimeError(self.fail)
        return {i.client_order_id: order_for(i) for i in intents}


async def test_the_batch_waits_for_every_strategy() -> None:
    settle = Recorder()
    desk = NettingDesk(["a", "b", "c"], settle)
    a = asyncio.ensure_future(desk.submit(intent("a")))
    b = asyncio.ensure_future(desk.submit(intent("b")))
    for _ in range(5):
        await asyncio.sleep(0)
    assert settle.batches == [] and not a.done()  # c is still deciding
    desk.finished("c")  # c held: nothing to wait for any more
    assert (await a).order_id == "id-a" and (await b).order_id == "id-b"
    desk.finished("a")
    desk.finished("b")
    await desk.drain()
    assert settle.batches == [["a", "b"]]


async def test_a_late_order_makes_a_second_batch() -> None:
    settle = Recorder()
    desk = NettingDesk(["a", "b"], settle)
    first = asyncio.ensure_future(desk.submit(intent("a")))
    desk.finished("b")
    await first
    second = asyncio.ensure_future(desk.submit(intent("a2")))
    desk.finished("a")
    await second
    await desk.drain()
    assert settle.batches == [["a"], ["a2"]]


async def test_a_failed_settlement_reaches_every_waiting_strategy() -> None:
    desk = NettingDesk(["a", "b"], Recorder(fail="exchange on fire"))
    results = await asyncio.gather(desk.submit(intent("a")), desk.submit(intent("b")),
                                   return_exceptions=True)
    assert [str(r) for r in results] == ["exchange on fire", "exchange on fire"]


async def test_nobody_waits_when_everyone_finished_without_orders() -> None:
    settle = Recorder()
    desk = NettingDesk(["a", "b"], settle)
    desk.finished("a")
    desk.finished("b")
    await desk.drain()
    assert settle.batches == []
