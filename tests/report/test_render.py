"""Table, JSON and CSV renderings of the scenario's report."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console

from bithumb_llm_trader.report import (
    CSV_COLUMNS,
    Period,
    Report,
    Scope,
    build_report,
    open_report_source,
    render_json,
    render_table,
    report_to_dict,
    write_csv,
)
from bithumb_llm_trader.report.table import krw, percent

from .conftest import NOW, ReportDb
from .scenario import TWAP_ID


@pytest.fixture(scope="module")
def built(sqlite_db: ReportDb) -> Report:
    source = open_report_source(sqlite_db.url)
    try:
        return build_report(source, Scope(Period()), now=NOW)
    finally:
        source.close()


def table_text(report: Report, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    render_table(report, console)
    return console.export_text()


def test_table_fits_100_columns_and_shows_the_figures(built: Report) -> None:
    text = table_text(built)
    assert max(len(line) for line in text.splitlines()) <= 100
    for expected in ("strategies: alpha, beta", "modes: dry, backtest",
                     "backtest of beta: rows without a recorded backtest result",
                     "Paper trading (mode dry): alpha", "Backtest (mode backtest): beta",
                     "invalid_output", "confidence_below_min", "max_single_order",
                     "1,057.98", "499.81", "3,198", "899.2", "-66.64", "9.99", "75%",
                     "gpt-4o-mini", "386.4", "30000", "1,003,039.22", "999,250", "0.125%"):
        assert expected in text, expected
    # no total of paper and backtest figures: alpha's and beta's fees never added up
    for mixed in ("1,557.79", "2,002,289.22", "By strategy"):
        assert mixed not in text, mixed
    assert text.index("Paper trading") < text.index("Backtest (mode")


def test_one_strategy_has_no_comparison(sqlite_db: ReportDb) -> None:
    source = open_report_source(sqlite_db.url)
    try:
        report = build_report(source, Scope(Period(), strategies=("alpha",)), now=NOW)
    finally:
        source.close()
    text = table_text(report)
    assert "By strategy" not in text
    assert "0.04%" in text  # alpha's drawdown, 0.0004


def test_amounts_print_exactly() -> None:
    assert krw(Decimal("1234567.891")) == "1,234,567.891"
    assert krw(Decimal("-0.40")) == "-0.4"
    assert krw(Decimal("1E+3")) == "1,000"
    assert krw(None) == "-"
    assert percent(Decimal("0.000400")) == "0.04%"


def test_json_is_the_dict_and_numbers_are_strings(built: Report) -> None:
    data = json.loads(render_json(built))
    assert data == report_to_dict(built)

    def numbers(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [n for item in value.values() for n in numbers(item)]
        if isinstance(value, list):
            return [n for item in value for n in numbers(item)]
        return [value] if isinstance(value, float) else []

    assert numbers(data) == []  # no float anywhere: money is exact text


def test_json_keys_are_stable(built: Report) -> None:
    """The documented keys (README): renaming one is a breaking change."""
    data = report_to_dict(built)
    assert list(data) == ["report_version", "database", "generated_at", "period",
                          "strategies", "modes", "backtests", "by_mode"]
    assert list(data["by_mode"]["dry"]) == ["strategies", "total", "by_strategy"]
    assert list(data["backtests"]["beta"]) == ["backtest_id", "ran_at", "chosen", "recorded"]
    total = data["by_mode"]["dry"]["total"]
    assert list(total["runs"]) == ["count", "failed", "by_status"]
    assert list(total["decisions"]) == ["count", "mean_confidence", "by_action",
                                        "holds_by_reason"]
    assert list(total["risk"]) == ["count", "approved", "shrunk", "rejected",
                                   "rejected_by_reason"]
    assert list(total["allocations"]) == ["count", "desired_notional_krw",
                                          "final_notional_krw", "capped", "caps_hit"]
    assert list(total["executions"]) == [
        "count", "by_status", "by_method", "attempted", "filled", "partial", "fill_rate",
        "requested_notional_krw", "filled_funds_krw", "orders", "orders_by_state", "fills",
        "bought_volume", "bought_funds_krw", "sold_volume", "sold_funds_krw", "twap_runs",
        "twap_by_status"]
    assert list(total["slippage"]) == ["single_vs_snapshot", "single_vs_arrival",
                                       "twap_vs_snapshot", "twap_vs_arrival"]
    assert list(total["slippage"]["twap_vs_arrival"]) == ["count", "mean_bps", "p50_bps",
                                                          "p95_bps", "worst_bps"]
    assert list(total["fees"]) == ["paid_krw", "single_krw", "twap_krw"]
    assert list(total["pnl"]) == ["realised_krw", "unrealised_krw", "fees_krw", "net_krw",
                                  "open_volume", "last_price", "unmatched_sell_volume"]
    assert list(total["equity"]) == ["samples", "start_krw", "end_krw", "change_krw",
                                     "max_drawdown_krw", "max_drawdown_pct"]
    assert list(total["model"]["total"]) == ["requests", "prompt_tokens",
                                             "completion_tokens", "cost_usd",
                                             "mean_latency_ms", "fallbacks_used", "cached",
                                             "http_requests", "cost_unknown",
                                             "shadow_decisions"]


def csv_rows(db: ReportDb, scope: Scope) -> list[dict[str, str]]:
    source = open_report_source(db.url)
    out = io.StringIO()
    try:
        written = write_csv(source, scope, out)
    finally:
        source.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert written == len(rows)
    return rows


def test_csv_has_one_row_per_order_execution_and_twap_slice(sqlite_db: ReportDb) -> None:
    rows = csv_rows(sqlite_db, Scope(Period()))
    assert list(rows[0]) == list(CSV_COLUMNS)
    kinds = [(row["kind"], row["strategy"], row["method"], row["status"]) for row in rows]
    assert kinds == [
        ("execution", "alpha", "order", "filled"),  # A1
        ("execution", "alpha", "order", "partial"),  # A7
        ("execution", "alpha", "order", "filled"),  # A8
        ("execution", "alpha", "twap", "filled"),  # the TWAP decision
        ("execution", "beta", "order", "filled"),  # B1
        ("execution", "beta", "order", "filled"),  # B3
        ("twap_slice", "alpha", "twap", "filled"),
        ("twap_slice", "alpha", "twap", "filled"),
    ]
    sell = rows[2]
    assert (sell["side"], sell["filled_volume"], sell["filled_funds_krw"], sell["fee_krw"]) == (
        "ask", "0.0016", "163198.4", "407.99")
    assert (sell["snapshot_price"], sell["arrival_price"]) == ("100000000", "99999000")
    assert (sell["slippage_vs_snapshot_bps"], sell["slippage_vs_arrival_bps"]) == (
        "-199.9", "-200")
    assert sell["dry_run"] == "true" and sell["time"] == "2026-03-02T02:45:00+00:00"
    assert [row["mode"] for row in rows] == ["dry"] * 4 + ["backtest"] * 2 + ["dry"] * 2
    first, second = rows[6], rows[7]
    assert (first["twap_run_id"], first["slice_no"], second["slice_no"]) == (TWAP_ID, "1", "2")
    # slice 2: 0.000499 BTC at 100,200,000 against the 100,000,000 arrival: +20 bps
    assert (second["filled_volume"], second["avg_price"], second["fee_krw"]) == (
        "0.000499", "100200000", "124.99")
    assert (second["slippage_vs_arrival_bps"], second["snapshot_price"]) == ("20", "")
    assert second["time"] == "2026-03-02T02:51:00+00:00"


def test_csv_follows_the_scope(sqlite_db: ReportDb) -> None:
    rows = csv_rows(sqlite_db, Scope(Period(), strategies=("beta",)))
    assert [row["strategy"] for row in rows] == ["beta", "beta"]
