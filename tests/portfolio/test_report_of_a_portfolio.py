"""A report over a portfolio's database counts every fill once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.report import Scope, build_report, open_report_source, parse_period

from ..engine.helpers import rows
from .test_netting_cycle import three

pytestmark = pytest.mark.anyio


async def test_total_leaves_the_portfolios_netted_rows_out(tmp_path: Path) -> None:
    r = three(tmp_path)
    result = await r.manager.run_cycle()
    assert result.ok
    fills = rows(r.store, "fills")
    members = [f for f in fills if f["strategy"] != "portfolio"]
    assert any(f["strategy"] == "portfolio" for f in fills)
    url = str(r.store.engine.url)
    r.store.close()
    source = open_report_source(url)
    now = r.clock.now() + timedelta(minutes=1)
    period = parse_period(since="1d", start=None, end=None, now=now)
    report = build_report(source, Scope(period=period), now=now)
    source.close()
    assert "portfolio" in report.by_strategy
    total = report.total
    fees = sum((Decimal(f["fee"]) for f in members), Decimal(0))
    assert total.fees.paid_krw == fees
    assert total.runs.count == 3  # the members' runs, not the portfolio's own
    assert report.by_strategy["portfolio"].runs.count == 1
