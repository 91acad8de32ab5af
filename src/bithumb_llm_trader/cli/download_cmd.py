"""``bithumb-trader download-candles``: fill a candle file from Bithumb's public API.

Public data needs no key. Progress goes to stderr; the file is written only when every
page has arrived, in the layout ``backtest --data`` reads.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from ..backtest import DownloadReport, download_candles
from ..bootstrap.adapters import public_client
from ..clock import SystemClock
from ..domain import UTC, CandleInterval, Market, parse_duration
from ..ports import Clock
from .common import EXIT_FAILED, EXIT_OK, fail, handled_errors, stderr

PROGRESS_EVERY = 10
"""Pages between progress lines (a page is 200 candles)."""


def command(
    ctx: typer.Context, *, market: str, output: str, interval: str, since: str,
    base_url: str,
) -> None:
    """Download candles into a CSV file that `backtest --data` reads; the options are
    ``cli.commands.download_candles``'s."""
    if ctx.args:
        fail(f"unexpected arguments: {' '.join(ctx.args)}")
    injected = dict(ctx.obj or {})
    clock: Clock = injected.get("clock") or SystemClock()
    try:
        parsed_market = Market.parse(market)
    except ValueError as exc:
        fail(str(exc))
    candle_interval = _interval(interval)
    now = clock.now()
    start = _since(since, now)
    with handled_errors():
        try:
            report = asyncio.run(_download(parsed_market, candle_interval, start, now,
                                           Path(output), base_url, clock, injected))
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_FAILED)
    span = f"{report.first} → {report.last}" if report.first else "nothing in that span"
    stderr().print(f"wrote {report.candles} candles ({span}) to {report.path}")
    raise typer.Exit(EXIT_OK)


async def _download(market: Market, interval: CandleInterval, since: datetime,
                    until: datetime, output: Path, base_url: str, clock: Clock,
                    injected: dict[str, Any]) -> DownloadReport:
    console = stderr()
    pages = {"count": 0}

    def progress(candles: int, oldest: datetime) -> None:
        pages["count"] += 1
        if pages["count"] % PROGRESS_EVERY == 1:
            console.print(f"{candles} candles, back to {oldest:%Y-%m-%d %H:%M} UTC")

    async with public_client(base_url, clock, injected.get("transport")) as client:
        return await download_candles(client, market, interval, since=since, until=until,
                                      output=output, progress=progress)


def _interval(text: str) -> CandleInterval:
    choices = {i.value: i for i in CandleInterval if i is not CandleInterval.MO1}
    if text not in choices:
        fail(f"--interval must be one of {', '.join(choices)}")
    return choices[text]


def _since(text: str, now: datetime) -> datetime:
    """``30d`` back from now, or an ISO date/time (UTC when it has no offset)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail("--since must be a duration such as 30d or an ISO date such as 2025-09-01")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
