"""A report never mixes run modes: one strategy traded dry, live and in two backtests on
the same day, written straight through the store.

``solo`` on 2 March 2026 (UTC), one market KRW-BTC:

========  ======================  =============================================
dry       00:00 00:15 00:30       equity 1,000,000 flat; buys 0.001 @ 100,000,000
live      00:05 00:20 00:35       equity 48,000,000 -> 40,000,000 -> 36,000,000
                                  (25% down); buys 0.1 @ 90,000,000; last 88,000,000
backtest  A ran 3 March           00:10 00:25 00:40: 10,000,000 -> 9,000,000 ->
                                  9,500,000 (10% down); buys 0.01 @ 80,000,000
backtest  B ran 4 March (latest)  00:12 00:27 00:42: 5,000,000 -> 5,500,000 ->
                                  4,400,000 (20% down); buys 0.02 @ 70,000,000;
                                  last 72,000,000
========  ======================  =============================================

Drawn as one curve, as version 1 of the report did, these rows fall from 48,000,000
to 1,000,000: a 98% drawdown that no account ever had.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.main import app
from bithumb_llm_trader.records import (
    ExecutionRecord,
    FillRecord,
    OrderRecord,
    Record,
    RunRecord,
    SignalRecord,
)
from bithumb_llm_trader.report import (
    Period,
    Scope,
    build_report,
    chart_series,
    open_report_source,
    report_to_dict,
)
from bithumb_llm_trader.store import open_store

D = Decimal
DAY = datetime(2026, 3, 2, tzinfo=timezone.utc)
NOW = datetime(2026, 3, 5, tzinfo=timezone.utc)
BT_A, BT_B = "a" * 32, "b" * 32
MARKET = "KRW-BTC"


def at(minutes: int) -> datetime:
    return DAY + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Account:
    """One mode's (or one backtest's) three cycles and the buy of its second."""

    mode: str
    run_ids: tuple[str, str, str]
    minutes: tuple[int, int, int]
    equity: tuple[int, int, int]
    buy: tuple[str, int]  # volume, price
    last_price: int


ACCOUNTS = (
    Account("dry", ("d1", "d2", "d3"), (0, 15, 30), (1_000_000,) * 3, ("0.001", 100_000_000),
            100_000_000),
    Account("live", ("l1", "l2", "l3"), (5, 20, 35), (48_000_000, 40_000_000, 36_000_000),
            ("0.1", 90_000_000), 88_000_000),
    Account("backtest", ("aaaaaaaaaa000001", "aaaaaaaaaa000002", "aaaaaaaaaa000003"),
            (10, 25, 40), (10_000_000, 9_000_000, 9_500_000), ("0.01", 80_000_000),
            80_000_000),
    Account("backtest", ("bbbbbbbbbb000001", "bbbbbbbbbb000002", "bbbbbbbbbb000003"),
            (12, 27, 42), (5_000_000, 5_500_000, 4_400_000), ("0.02", 70_000_000),
            72_000_000),
)


def account_records(account: Account) -> list[Record]:
    records: list[Record] = []
    for run_id, minute, equity in zip(account.run_ids, account.minutes, account.equity,
                                      strict=True):
        records.append(RunRecord(
            run_id=run_id, strategy="solo", market=MARKET, mode=account.mode,
            started_at=at(minute), status="ok", finished_at=at(minute),
            total_equity_krw=D(equity), last_price=D(account.last_price)))
        records.append(SignalRecord(
            request_id=f"rq-{run_id}", run_id=run_id, strategy="solo", created_at=at(minute),
            action="hold", confidence=D(0), agent_intent="hold", payload_json={},
            raw_text=None))
    run_id, when = account.run_ids[1], at(account.minutes[1])
    volume, price = D(account.buy[0]), D(account.buy[1])
    funds = volume * price
    fee = funds * D("0.0025")
    order_id = f"co-{run_id}"
    dry = account.mode != "live"
    records += [
        ExecutionRecord(
            execution_id=f"ex-{run_id}", run_id=run_id, strategy="solo", created_at=when,
            agent_intent="enter_long", action="buy", side="bid", method="order",
            status="filled", dry_run=dry, mode=account.mode, client_order_id=order_id,
            requested_notional=funds, filled_volume=volume, filled_funds=funds,
            avg_price=price, fee=fee, reference_price=price, arrival_price=price),
        OrderRecord(
            client_order_id=order_id, run_id=run_id, strategy="solo", market=MARKET,
            side="bid", order_type="price", state="done", dry_run=dry, mode=account.mode,
            created_at=when, updated_at=when, notional=funds, executed_volume=volume,
            executed_funds=funds, paid_fee=fee),
        FillRecord(
            client_order_id=order_id, trade_id="t1", run_id=run_id, strategy="solo",
            market=MARKET, side="bid", price=price, volume=volume, funds=funds, fee=fee,
            created_at=when, dry_run=dry, mode=account.mode),
    ]
    return records


def backtest_result(backtest_id: str, ran_at: datetime) -> RunRecord:
    """A backtest's result row, as ``backtest.results.summary_run`` writes it."""
    return RunRecord(
        run_id=backtest_id, strategy="solo", market=MARKET, mode="backtest",
        started_at=ran_at, status="ok", finished_at=ran_at,
        result_json={"kind": "backtest", "backtest_id": backtest_id,
                     "run_id_prefix": backtest_id[:10], "strategy": "solo"})


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("modes") / "modes.db"
    store = open_store(f"sqlite:///{path}", clock=ManualClock(DAY))
    try:
        for account in ACCOUNTS:
            store.write(account_records(account))
        store.write([backtest_result(BT_A, datetime(2026, 3, 3, tzinfo=timezone.utc)),
                     backtest_result(BT_B, datetime(2026, 3, 4, tzinfo=timezone.utc))])
    finally:
        store.close()
    return f"sqlite:///{path}"


def report(url: str, scope: Scope | None = None) -> dict[str, Any]:
    source = open_report_source(url)
    try:
        return report_to_dict(build_report(source, scope or Scope(Period()), now=NOW))
    finally:
        source.close()


def equity(data: dict[str, Any], mode: str) -> dict[str, Any]:
    section: dict[str, Any] = data["by_mode"][mode]["total"]["equity"]
    return section


def test_each_mode_has_its_own_equity_and_drawdown(url: str) -> None:
    data = report(url)
    assert data["report_version"] == 3
    assert data["modes"] == ["dry", "live", "backtest"]
    assert equity(data, "dry") == {
        "samples": 3, "start_krw": "1000000", "end_krw": "1000000", "change_krw": "0",
        "max_drawdown_krw": "0", "max_drawdown_pct": "0"}
    assert equity(data, "live") == {
        "samples": 3, "start_krw": "48000000", "end_krw": "36000000",
        "change_krw": "-12000000", "max_drawdown_krw": "12000000", "max_drawdown_pct": "0.25"}
    # the latest backtest, B, alone: 5,500,000 -> 4,400,000
    assert equity(data, "backtest") == {
        "samples": 3, "start_krw": "5000000", "end_krw": "4400000", "change_krw": "-600000",
        "max_drawdown_krw": "1100000", "max_drawdown_pct": "0.2"}
    for mode in data["modes"]:
        assert data["by_mode"][mode]["by_strategy"]["solo"]["equity"] == equity(data, mode)


def test_counts_pnl_and_prices_stay_in_their_mode(url: str) -> None:
    data = report(url)
    live = data["by_mode"]["live"]["total"]
    assert live["runs"] == {"count": 3, "failed": 0, "by_status": {"ok": 3}}
    assert live["decisions"]["count"] == 3  # signals carry the mode of their run
    assert live["executions"]["fills"] == 1 and live["fees"]["paid_krw"] == "22500"
    # 0.1 BTC bought at 90,000,000, valued at live's last price 88,000,000
    assert live["pnl"]["last_price"] == {MARKET: "88000000"}
    assert live["pnl"]["unrealised_krw"] == "-200000"
    dry = data["by_mode"]["dry"]["total"]
    assert dry["pnl"]["last_price"] == {MARKET: "100000000"}
    assert (dry["pnl"]["unrealised_krw"], dry["fees"]["paid_krw"]) == ("0", "250")
    backtest = data["by_mode"]["backtest"]["total"]
    # B's three cycles; neither A's nor the two result rows count as runs
    assert backtest["runs"]["count"] == 3 and backtest["decisions"]["count"] == 3
    assert backtest["executions"]["bought_volume"] == "0.02"
    assert backtest["pnl"]["unrealised_krw"] == "40000"  # 0.02 * (72,000,000 - 70,000,000)
    assert data["backtests"] == {"solo": {
        "backtest_id": BT_B, "ran_at": "2026-03-04T00:00:00+00:00", "chosen": "latest",
        "recorded": 2}}


def test_one_mode_only(url: str) -> None:
    data = report(url, Scope(Period(), modes=("live",)))
    assert data["modes"] == ["live"] and list(data["by_mode"]) == ["live"]
    assert data["backtests"] == {}
    assert equity(data, "live")["max_drawdown_pct"] == "0.25"


@pytest.mark.parametrize("asked", [BT_A, BT_A[:10]])
def test_backtest_picks_one(url: str, asked: str) -> None:
    data = report(url, Scope(Period(), backtest=asked))
    assert equity(data, "backtest") == {
        "samples": 3, "start_krw": "10000000", "end_krw": "9500000", "change_krw": "-500000",
        "max_drawdown_krw": "1000000", "max_drawdown_pct": "0.1"}
    assert data["backtests"]["solo"]["backtest_id"] == BT_A
    assert data["backtests"]["solo"]["chosen"] == "requested"
    assert data["modes"] == ["dry", "live", "backtest"]  # other modes are not affected
    assert equity(data, "live")["max_drawdown_pct"] == "0.25"


def test_latest_backtest_with_rows_in_the_period(url: str) -> None:
    """Until 00:11 only A has a cycle (B starts at 00:12): A is the one read."""
    data = report(url, Scope(Period(None, at(11)), modes=("backtest",)))
    assert data["backtests"]["solo"]["backtest_id"] == BT_A
    assert equity(data, "backtest")["start_krw"] == "10000000"


def test_an_unknown_backtest_lists_the_recorded_ones(url: str) -> None:
    source = open_report_source(url)
    try:
        with pytest.raises(StoreError, match=rf"no backtest 'c' \(it has: {BT_B} \(solo"):
            build_report(source, Scope(Period(), backtest="c"), now=NOW)
    finally:
        source.close()


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, ["report", *args], obj={"clock": ManualClock(NOW)})


def test_cli_mode_and_backtest(url: str) -> None:
    result = invoke(["--db", url, "--format", "json", "--mode", "live"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["modes"] == ["live"]
    result = invoke(["--db", url, "--format", "json", "--mode", "backtest", "--mode", "dry",
                     "--backtest", BT_A])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["modes"] == ["dry", "backtest"]
    assert equity(data, "backtest")["start_krw"] == "10000000"


def test_table_has_a_heading_per_mode_and_no_mixed_drawdown(url: str) -> None:
    result = invoke(["--db", url])
    assert result.exit_code == 0, result.output
    text = result.stdout
    for heading in ("Paper trading (mode dry): solo", "Live trading (mode live): solo",
                    "Backtest (mode backtest): solo", f"backtest of solo: {BT_B}",
                    "the latest of 2"):
        assert heading in text, heading
    assert "25%" in text and "20%" in text
    assert "97." not in text and "98" not in text


def test_csv_names_the_mode_of_each_row(url: str) -> None:
    result = invoke(["--db", url, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["mode"], row["run_id"]) for row in rows] == [
        ("dry", "d2"), ("live", "l2"), ("backtest", "bbbbbbbbbb000002")]
    result = invoke(["--db", url, "--format", "csv", "--backtest", BT_A, "--mode", "backtest"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["mode"], row["run_id"]) for row in rows] == [
        ("backtest", "aaaaaaaaaa000002")]


@pytest.fixture()
def figure(url: str) -> Iterator[Any]:
    pytest.importorskip("matplotlib")
    from bithumb_llm_trader.report.chart import _figure

    source = open_report_source(url)
    try:
        scope = Scope(Period())
        built = build_report(source, scope, now=NOW)
        yield _figure(built, chart_series(source, scope))
    finally:
        source.close()


def test_chart_draws_one_curve_per_mode(figure: Any) -> None:
    equity_axes = figure.axes[0::2]
    assert [axes.get_title() for axes in equity_axes] == [
        "Equity, mode dry (KRW)", "Equity, mode live (KRW)", "Equity, mode backtest (KRW)"]
    lines = [[(line.get_label(), list(line.get_ydata())) for line in axes.get_lines()]
             for axes in equity_axes]
    assert lines == [
        [("solo (dry)", [1e6, 1e6, 1e6])],
        [("solo (live)", [48e6, 40e6, 36e6])],
        [("solo (backtest)", [5e6, 5.5e6, 4.4e6])],  # backtest B only
    ]


def test_chart_of_one_mode(url: str, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "live.svg"
    result = invoke(["--db", url, "--mode", "live", "--chart", str(target)])
    assert result.exit_code == 0, result.output
    svg = target.read_text(encoding="utf-8")
    assert "Equity, mode live" in svg and "mode dry" not in svg and "mode backtest" not in svg
