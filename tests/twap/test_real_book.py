"""On a real orderbook that refills between slices, a TWAP pays less than one order."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.api_client.parsing import parse_orderbook
from bithumb_llm_trader.domain import Orderbook, OrderRequest, OrderType, Side
from bithumb_llm_trader.liquidity import signed_slippage_bps

from .helpers import params, rig

pytestmark = pytest.mark.anyio
D = Decimal
BOOK = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
        / "upbit_orderbook_krw_btc_2021-03-08.json")


def real_book() -> Orderbook:
    if not BOOK.is_file():
        pytest.skip(f"{BOOK} is absent")
    payload = json.loads(BOOK.read_text(encoding="utf-8"), parse_float=Decimal)
    return parse_orderbook(payload[0])


async def test_twap_beats_one_market_order_beyond_the_top_levels(tmp_path: Path) -> None:
    book = real_book()
    notional = D(60_000_000)  # the top three asks hold about 37 million KRW
    single = rig(tmp_path / "single", book)
    order = await single.paper.place_order(OrderRequest(
        market=book.market, side=Side.BUY, order_type=OrderType.MARKET,
        client_order_id="one-shot", notional=notional))
    assert book.best_ask is not None
    one_shot = signed_slippage_bps(Side.BUY, order.average_price, book.best_ask)
    sliced = rig(tmp_path / "sliced", book)
    report = await sliced.executor.run(params(notional=notional))
    # Coins come in 8-decimal steps: what is left is less than one step's worth.
    assert report.filled_funds + report.remaining == notional
    assert report.remaining < D("0.00000001") * D(58_100_000)
    assert one_shot is not None and report.slippage_bps is not None
    assert report.slippage_bps < one_shot
    assert one_shot > 2 and report.slippage_bps < 1
