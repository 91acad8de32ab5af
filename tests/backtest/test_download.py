"""`download-candles`: paging back with ``to`` over a mocked candle endpoint."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from bithumb_llm_trader.api_client import BithumbClient
from bithumb_llm_trader.backtest import download_candles, open_candle_file
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import CandleInterval, Market
from bithumb_llm_trader.main import app, legacy_argv

from .helpers import UTC

NOW = datetime(2025, 9, 2, 12, 34, 56, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
KST = timedelta(hours=9)


class CandleServer:
    """``/v1/candles/minutes/1``: up to ``count`` candles that opened before ``to`` (naive
    KST), newest first, back to ``listed``; ``to`` absent means now, forming candle too."""

    def __init__(self, listed: datetime) -> None:
        self.listed = listed
        self.requests: list[dict[str, str]] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.requests.append(params)
        assert request.url.path == "/v1/candles/minutes/1" and params["market"] == "KRW-BTC"
        to = (datetime.fromisoformat(params["to"]).replace(tzinfo=UTC) - KST
              if "to" in params else NOW)
        start = to.replace(second=0) - (MINUTE if "to" in params else timedelta(0))
        body = []
        while len(body) < int(params["count"]) and start >= self.listed:
            body.append(self.candle(start))
            start -= MINUTE
        return httpx.Response(200, content=json.dumps(body).encode())

    @staticmethod
    def candle(start: datetime) -> dict[str, Any]:
        price = 100_000_000 + start.minute * 1000
        return {"market": "KRW-BTC", "candle_date_time_utc": start.strftime("%Y-%m-%dT%H:%M:%S"),
                "candle_date_time_kst": (start + KST).strftime("%Y-%m-%dT%H:%M:%S"),
                "opening_price": price, "high_price": price + 5000, "low_price": price - 5000,
                "trade_price": price + 1000, "timestamp": 0,
                "candle_acc_trade_price": 12.5, "candle_acc_trade_volume": 0.125, "unit": 1}


def download(server: CandleServer, output: Path, since: datetime,
              progress: list[tuple[int, datetime]]) -> Any:
    async def go() -> Any:
        async with BithumbClient(transport=server.transport(), clock=ManualClock(NOW)) as client:
            return await download_candles(
                client, Market.parse("KRW-BTC"), CandleInterval.M1, since=since, until=NOW,
                output=output, progress=lambda n, oldest: progress.append((n, oldest)))
    return asyncio.run(go())


def test_pages_are_fetched_backwards_and_written_oldest_first(tmp_path: Path) -> None:
    server = CandleServer(listed=datetime(2025, 1, 1, tzinfo=UTC))
    output = tmp_path / "btc.csv"
    since = NOW - timedelta(minutes=1000)  # 2025-09-01 19:54:56
    progress: list[tuple[int, datetime]] = []

    report = download(server, output, since, progress)

    # 19:55 (the first start after since) to 12:33 (12:34 is still forming): 999 minutes.
    first, last = datetime(2025, 9, 1, 19, 55, tzinfo=UTC), datetime(2025, 9, 2, 12, 33,
                                                                     tzinfo=UTC)
    assert (report.candles, report.first, report.last) == (999, first, last)
    assert [p[0] for p in progress] == [200, 400, 600, 800, 999]
    assert server.requests[0]["to"] == "2025-09-02T21:34:00"  # 12:34 UTC in naive KST
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[:4] == ["# source: bithumb", "# market: KRW-BTC", "# interval: 1m",
                         "timestamp,open,high,low,close,volume"]
    assert lines[4] == "2025-09-01 19:55:00,100055000,100060000,100050000,100056000,0.125"
    file = open_candle_file(output)
    candles = list(file)
    assert len(candles) == 999 and candles[-1].start == last and file.source == "bithumb"
    assert all(b.start - a.start == MINUTE for a, b in itertools.pairwise(candles))
    assert not (tmp_path / "btc.csv.part").exists()


def test_a_market_listed_later_stops_where_its_history_starts(tmp_path: Path) -> None:
    listed = NOW - timedelta(minutes=250)
    server = CandleServer(listed=listed.replace(second=0))
    report = download(server, tmp_path / "new.csv", NOW - timedelta(days=30), [])

    assert report.candles == 250 and report.first == listed.replace(second=0)
    assert report.pages == 2


def test_the_command_downloads_with_progress_on_stderr(tmp_path: Path) -> None:
    server = CandleServer(listed=datetime(2025, 1, 1, tzinfo=UTC))
    output = tmp_path / "cli.csv"
    args = ["download-candles", "KRW-BTC", "--interval", "1m", "--since", "2h",
            "--output", str(output)]
    assert legacy_argv(args) == args  # not mistaken for the older `main CONFIG` form

    result = CliRunner().invoke(app, args, obj={"transport": server.transport(),
                                                "clock": ManualClock(NOW)})

    assert result.exit_code == 0, result.output
    # 10:35 (the first start after 10:34:56) to 12:33: one page of 119.
    assert "119 candles, back to 2025-09-02 10:35 UTC" in result.stderr
    assert "wrote 119 candles" in result.stderr and result.stdout == ""
    assert len(list(open_candle_file(output))) == 119


def test_the_command_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    for args, message in (
        (["KRW_BTC"], "market id must look like KRW-BTC"),
        (["KRW-BTC", "--interval", "2m"], "--interval must be one of"),
        (["KRW-BTC", "--since", "last week"], "--since must be a duration"),
    ):
        result = runner.invoke(app, ["download-candles", *args, "--output",
                                     str(tmp_path / "x.csv")])
        assert result.exit_code == 2, result.output
        assert message in result.stderr
