"""Netting crosses strategies at the book's mid: only a book that can be true."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from bithumb_llm_trader.domain import Level, Market, Orderbook, Side
from bithumb_llm_trader.errors import MarketDataRejected
from bithumb_llm_trader.multi_agent.batch import BatchSettler
from bithumb_llm_trader.multi_agent.netting import Intent

pytestmark = pytest.mark.anyio
D = Decimal
BTC = Market("KRW", "BTC")


class OneBook:
    def __init__(self, book: Orderbook) -> None:
        self.book = book

    async def orderbook(self, market: Market) -> Orderbook:
        return self.book


class NeverSettles:
    async def settle(self, plan: Any, run_id: str) -> Any:
        raise AssertionError("a plan was settled on a book that cannot be true")


async def _no_chance(market: Market) -> Any:
    raise AssertionError("not reached")


@pytest.mark.parametrize(("bids", "asks"), [
    ([("100000000", "1")], [("99000000", "1")]),  # crossed: bid above ask
    ([], [("100000000", "1")]),  # one side missing
    ([("0", "1")], [("100000000", "1")]),  # a bid at zero
])
async def test_a_book_that_cannot_be_true_nets_nothing(bids: list[tuple[str, str]],
                                                       asks: list[tuple[str, str]]) -> None:
    book = Orderbook(BTC, datetime(2026, 3, 2, tzinfo=timezone.utc),
                     asks=tuple(Level(D(p), D(s)) for p, s in asks),
                     bids=tuple(Level(D(p), D(s)) for p, s in bids))
    batch = BatchSettler(NeverSettles(), OneBook(book), _no_chance,  # type: ignore[arg-type]
                         lambda: "n1")
    intents = [Intent("a", "btr-c-a", BTC, Side.BUY, D(100000), D(100000)),
               Intent("b", "btr-c-b", BTC, Side.SELL, D("0.001"), D("0.001"))]
    outcomes, settlements = await batch.settle(intents, "run", prices={"BTC": D(100_000_000)},
                                               headroom_krw=D(10_000_000))
    assert settlements == []
    assert set(outcomes) == {"btr-c-a", "btr-c-b"}
    assert all(isinstance(error, MarketDataRejected) for error in outcomes.values())
