"""Every figure of the report against values worked out by hand from the scenario.

The scenario (``scenario.py``) is traded through real dry cycles on the stand-in
exchange, whose book is known exactly: asks at price + 1,000 * i, bids at
price - 1,000 * (i + 1), level i holding level_size * (i + 1) BTC; the paper fee is
0.25% per fill, rounded down to 0.01 KRW. The arithmetic behind each figure is in the
comments; whole sections are compared, so a figure that is added later without a test
fails here. Runs on SQLite, and on MariaDB/PostgreSQL when their URLs are set.
"""

from __future__ import annotations

from typing import Any

import pytest

from bithumb_llm_trader.report import (
    Period,
    Scope,
    build_report,
    open_report_source,
    report_to_dict,
)
from bithumb_llm_trader.report.period import parse_instant
from bithumb_llm_trader.store import redact_url

from .conftest import NOW, ReportDb

NO_SLIPPAGE = {"count": 0, "mean_bps": None, "p50_bps": None, "p95_bps": None,
               "worst_bps": None}


def one(value: str) -> dict[str, Any]:
    """Slippage statistics of a single observation."""
    return {"count": 1, "mean_bps": value, "p50_bps": value, "p95_bps": value,
            "worst_bps": value}


def report(db: ReportDb, scope: Scope | None = None) -> dict[str, Any]:
    source = open_report_source(db.url)
    try:
        return report_to_dict(build_report(source, scope or Scope(Period()), now=NOW))
    finally:
        source.close()


@pytest.fixture(scope="module")
def full(report_db: ReportDb) -> dict[str, Any]:
    return report(report_db)


# -- alpha -------------------------------------------------------------------------------
# Fills: A1 0.001 BTC @ 100,000,000 = 100,000 (fee 250.00). A7 (book thinned to 2 levels
# of 0.0002 and 0.0004 BTC while deciding 99,975 KRW): 0.0002 @ 100,000,000 = 20,000
# (fee 50.00) + 0.0004 @ 100,001,000 = 40,000.4 (fee 100.001 -> 100.00). A8 exits the
# whole 0.0016 BTC at the jumped bid 101,999,000 = 163,198.4 (fee 407.996 -> 407.99).
# TWAP: 0.0005 @ 100,000,000 = 50,000 (fee 125.00) and
# round_volume(50,000 / 100,200,000) = 0.000499 @ 100,200,000 = 49,999.8 (fee 124.99).
ALPHA = {
    "runs": {"count": 9, "failed": 1, "by_status": {"failed": 1, "ok": 8}},
    "decisions": {
        # buy 0.8 + 0.3 + 0.8, sell 0.9, four HOLDs at 0: 2.8 / 8 = 0.35
        "count": 8, "mean_confidence": "0.35",
        "by_action": {"buy": {"count": 3, "mean_confidence": "0.6333"},  # 1.9 / 3
                      "sell": {"count": 1, "mean_confidence": "0.9"},
                      "hold": {"count": 4, "mean_confidence": "0"}},
        "holds_by_reason": {"chosen": 2, "invalid_output": 1, "warmup": 1},
    },
    # A1 and A7 shrunk by max_trade_value (and A7 by max_position); A8 a plain sell.
    "risk": {"count": 4, "approved": 3, "shrunk": 2, "rejected": 1,
             "rejected_by_reason": {"confidence_below_min": 1}},
    "allocations": {
        # A1: 1,000,000 * 1% / 2% = 500,000 wanted, 10% cap 100,000. A7: equity 999,750
        # -> 499,875 wanted, 99,975 allowed. A8: 0.0016 BTC * bid 99,999,000 = 159,998.
        "count": 3, "desired_notional_krw": "1159873", "final_notional_krw": "359973",
        "capped": 2,
        "caps_hit": {"max_single_order": 2, "max_trade_value": 2, "max_position": 1},
    },
    "executions": {
        "count": 9, "by_status": {"filled": 3, "hold": 4, "partial": 1, "rejected": 1},
        "by_method": {"order": 3, "twap": 1, "none": 5},
        "attempted": 4, "filled": 3, "partial": 1, "fill_rate": "0.75",
        # 100,000 + 99,975 + 159,998 + 100,000 (TWAP)
        "requested_notional_krw": "459973",
        # 100,000 + 60,000.4 + 163,198.4 + 99,999.8
        "filled_funds_krw": "423198.6",
        "orders": 5, "orders_by_state": {"cancel": 1, "done": 4}, "fills": 6,
        "bought_volume": "0.002599", "bought_funds_krw": "260000.2",
        "sold_volume": "0.0016", "sold_funds_krw": "163198.4",
        "twap_runs": 1, "twap_by_status": {"done": 1},
    },
    "slippage": {
        # A1 0; A7 avg 100,000,666.66666667 -> +0.07 against 100,000,000 (snapshot and
        # best ask alike); A8 sold at 101,999,000: against the 100,000,000 snapshot
        # -1,999,000 / 1e8 = -199.90, against the 99,999,000 arrival bid -200.002.
        "single_vs_snapshot": {"count": 3, "mean_bps": "-66.61", "p50_bps": "0",
                               "p95_bps": "0.07", "worst_bps": "0.07"},  # -199.83 / 3
        "single_vs_arrival": {"count": 3, "mean_bps": "-66.64", "p50_bps": "0",
                              "p95_bps": "0.07", "worst_bps": "0.07"},  # -199.93 / 3
        # TWAP avg 99,999.8 / 0.000999 = 100,099,899.89989990: against the decision's
        # 99,950,000 +14.9975 -> 15.00, against the arrival 100,000,000 +9.99.
        "twap_vs_snapshot": one("15"),
        "twap_vs_arrival": one("9.99"),
    },
    "fees": {"paid_krw": "1057.98", "single_krw": "807.99", "twap_krw": "249.99"},
    "pnl": {
        # FIFO: the sell of 0.0016 takes A1's lot (cost 100,000) and A7's (60,000.4)
        # whole: 163,198.4 - 160,000.4 = 3,198.
        "realised_krw": "3198",
        # Open at A9's 101,000,000: the TWAP's 0.0005 -> 50,500 - 50,000 and
        # 0.000499 -> 50,399 - 49,999.8: 899.2.
        "unrealised_krw": "899.2",
        "fees_krw": "1057.98",
        "net_krw": "3039.22",  # 3,198 + 899.2 - 1,057.98
        "open_volume": {"KRW-BTC": "0.000999"},
        "last_price": {"KRW-BTC": "101000000"},
        "unmatched_sell_volume": "0",
    },
    "equity": {
        # 1,000,000 (A1); 999,750 (A2-A5, A7: cash 899,750 + 0.001 BTC * 1e8); A6 none;
        # A8 839,599.6 + 0.0016 * 1e8 = 999,599.6; A9 cash 839,599.6 + 163,198.4 - 407.99
        # - 99,999.8 (the TWAP) - 249.99 = 902,140.22, + 0.000999 * 101,000,000 =
        # 1,003,039.22. Deepest fall 1,000,000 -> 999,599.6.
        "samples": 8, "start_krw": "1000000", "end_krw": "1003039.22",
        "change_krw": "3039.22", "max_drawdown_krw": "400.4", "max_drawdown_pct": "0.0004",
    },
    "model": {
        # LLM: A1 A2 A7 A8 A9 (1,000 + 100 tokens, 0.0002 USD, 400 ms), A3 (900 + 50,
        # 0.00015, 700 ms), A5 cached (0 tokens, 0 USD, 5 ms). A4 was the rule decider.
        # Each took one HTTP request (the helper's outcomes record attempts=1).
        "total": {"requests": 7, "prompt_tokens": 5900, "completion_tokens": 550,
                  "cost_usd": "0.00115", "mean_latency_ms": "386.4",  # 2,705 / 7
                  "fallbacks_used": 1, "cached": 1, "http_requests": 7,
                  "cost_unknown": 0, "shadow_decisions": 0},
        "by_model": {"gpt-4o-mini": {
            "requests": 7, "prompt_tokens": 5900, "completion_tokens": 550,
            "cost_usd": "0.00115", "mean_latency_ms": "386.4", "fallbacks_used": 1,
            "cached": 1, "http_requests": 7, "cost_unknown": 0, "shadow_decisions": 0}},
    },
}

# -- beta (backtest mode) -----------------------------------------------------------------
# B1 0.001 @ 100,000,000 (fee 250.00). B3 at 99,500,000 with equity 999,250: 10% =
# 99,925 -> round_volume(99,925 / 99,500,000) = 0.00100427 BTC = 99,924.865 (fee 249.81).
BETA = {
    "runs": {"count": 3, "failed": 0, "by_status": {"ok": 3}},
    "decisions": {"count": 3, "mean_confidence": "0.4667",  # 1.4 / 3
                  "by_action": {"buy": {"count": 2, "mean_confidence": "0.7"},
                                "sell": {"count": 0, "mean_confidence": None},
                                "hold": {"count": 1, "mean_confidence": "0"}},
                  "holds_by_reason": {"timeout": 1}},
    "risk": {"count": 2, "approved": 2, "shrunk": 2, "rejected": 0, "rejected_by_reason": {}},
    "allocations": {
        # B1 500,000 -> 100,000; B3 999,250 / 2 = 499,625 -> 99,925 (max_position
        # 500,000 - 99,500 = 400,500 also bit)
        "count": 2, "desired_notional_krw": "999625", "final_notional_krw": "199925",
        "capped": 2,
        "caps_hit": {"max_single_order": 2, "max_trade_value": 2, "max_position": 1},
    },
    "executions": {
        "count": 3, "by_status": {"filled": 2, "hold": 1},
        "by_method": {"order": 2, "twap": 0, "none": 1},
        "attempted": 2, "filled": 2, "partial": 0, "fill_rate": "1",
        "requested_notional_krw": "199925", "filled_funds_krw": "199924.865",
        "orders": 2, "orders_by_state": {"done": 2}, "fills": 2,
        "bought_volume": "0.00200427", "bought_funds_krw": "199924.865",
        "sold_volume": "0", "sold_funds_krw": "0", "twap_runs": 0, "twap_by_status": {},
    },
    "slippage": {"single_vs_snapshot": {"count": 2, "mean_bps": "0", "p50_bps": "0",
                                        "p95_bps": "0", "worst_bps": "0"},
                 "single_vs_arrival": {"count": 2, "mean_bps": "0", "p50_bps": "0",
                                       "p95_bps": "0", "worst_bps": "0"},
                 "twap_vs_snapshot": NO_SLIPPAGE, "twap_vs_arrival": NO_SLIPPAGE},
    "fees": {"paid_krw": "499.81", "single_krw": "499.81", "twap_krw": "0"},
    "pnl": {
        # at B3's 99,500,000: 0.001 BTC -> 99,500 - 100,000; B3's lot exactly at cost
        "realised_krw": "0", "unrealised_krw": "-500", "fees_krw": "499.81",
        "net_krw": "-999.81", "open_volume": {"KRW-BTC": "0.00200427"},
        "last_price": {"KRW-BTC": "99500000"}, "unmatched_sell_volume": "0",
    },
    "equity": {
        # 1,000,000; 899,750 + 0.001 * 99,000,000 = 998,750; + 0.001 * 99,500,000
        "samples": 3, "start_krw": "1000000", "end_krw": "999250", "change_krw": "-750",
        "max_drawdown_krw": "1250", "max_drawdown_pct": "0.00125",
    },
    "model": {
        # B2: the LLM timed out after 30 s, no tokens, no cost recorded (NULL): the cost
        # is unknown (null), not 0 (issue 18: an unknown cost must not look free)
        "total": {"requests": 1, "prompt_tokens": 0, "completion_tokens": 0,
                  "cost_usd": None, "mean_latency_ms": "30000", "fallbacks_used": 0,
                  "cached": 0, "http_requests": 1, "cost_unknown": 1,
                  "shadow_decisions": 0},
        "by_model": {"gpt-4o-mini": {"requests": 1, "prompt_tokens": 0,
                                     "completion_tokens": 0, "cost_usd": None,
                                     "mean_latency_ms": "30000", "fallbacks_used": 0,
                                     "cached": 0, "http_requests": 1, "cost_unknown": 1,
                                     "shadow_decisions": 0}},
    },
}

# Alpha traded dry and beta was a backtest: two modes, so no total adds them up (the
# report of version 1 did, drawing one equity curve through paper and backtest rows).

SECTIONS = ("runs", "decisions", "risk", "allocations", "executions", "slippage", "fees",
            "pnl", "equity", "model")


@pytest.mark.parametrize("section", SECTIONS)
def test_alpha(full: dict[str, Any], section: str) -> None:
    assert full["by_mode"]["dry"]["by_strategy"]["alpha"][section] == ALPHA[section]


@pytest.mark.parametrize("section", SECTIONS)
def test_beta(full: dict[str, Any], section: str) -> None:
    assert full["by_mode"]["backtest"]["by_strategy"]["beta"][section] == BETA[section]


@pytest.mark.parametrize("section", SECTIONS)
def test_each_mode_has_its_own_total(full: dict[str, Any], section: str) -> None:
    assert full["by_mode"]["dry"]["total"][section] == ALPHA[section]
    assert full["by_mode"]["backtest"]["total"][section] == BETA[section]


def test_header(full: dict[str, Any], report_db: ReportDb) -> None:
    assert full["report_version"] == 3
    assert full["strategies"] == ["alpha", "beta"]
    assert full["modes"] == ["dry", "backtest"]
    assert list(full["by_mode"]) == ["dry", "backtest"]
    assert full["by_mode"]["dry"]["strategies"] == ["alpha"]
    assert full["by_mode"]["backtest"]["strategies"] == ["beta"]
    # beta's rows were traded in backtest mode without a backtest's result row
    assert full["backtests"] == {"beta": {"backtest_id": None, "ran_at": None,
                                          "chosen": "unrecorded", "recorded": 0}}
    assert full["period"] == {"start": None, "end": None}
    assert full["generated_at"] == NOW.isoformat()
    assert list(full["by_mode"]["dry"]["total"]) == list(SECTIONS)
    assert full["database"] == redact_url(report_db.url)
    assert "total" not in full and "by_strategy" not in full


def test_one_strategy_is_its_own_total(report_db: ReportDb) -> None:
    data = report(report_db, Scope(Period(), strategies=("beta",)))
    assert data["strategies"] == ["beta"]
    assert data["by_mode"] == {"backtest": {"strategies": ["beta"], "total": BETA,
                                            "by_strategy": {"beta": BETA}}}


def test_period_in_the_middle(report_db: ReportDb) -> None:
    """02:20..03:10 UTC: A7, A8, the TWAP and A9. A8's sell still closes A1's lot, bought
    before the period, so realised PnL is unchanged; fees and counts are the period's."""
    period = Period(parse_instant("2026-03-02T02:20Z", what="--from", end=False),
                    parse_instant("2026-03-02T03:10Z", what="--to", end=True))
    data = report(report_db, Scope(period))
    assert data["strategies"] == ["alpha"] and data["modes"] == ["dry"]
    assert data["period"] == {"start": "2026-03-02T02:20:00+00:00",
                              "end": "2026-03-02T03:10:00+00:00"}
    total = data["by_mode"]["dry"]["total"]
    assert total["runs"]["count"] == 3 and total["runs"]["failed"] == 0
    assert total["decisions"]["count"] == 3
    assert total["decisions"]["mean_confidence"] == "0.5667"  # (0.8 + 0.9 + 0) / 3
    assert total["risk"] == {"count": 2, "approved": 2, "shrunk": 1, "rejected": 0,
                             "rejected_by_reason": {}}
    executions = total["executions"]
    assert (executions["attempted"], executions["filled"], executions["partial"]) == (3, 2, 1)
    assert (executions["orders"], executions["fills"]) == (4, 5)
    assert total["fees"] == {"paid_krw": "807.98", "single_krw": "557.99",
                             "twap_krw": "249.99"}  # 150 + 407.99, and the TWAP's
    assert total["pnl"]["realised_krw"] == "3198"
    assert total["pnl"]["unrealised_krw"] == "899.2"
    assert total["pnl"]["net_krw"] == "3289.22"  # 3,198 + 899.2 - 807.98
    # 999,750 -> 999,599.6 -> 1,003,039.22: fell 150.4 from 999,750 (0.0150%)
    assert total["equity"] == {"samples": 3, "start_krw": "999750",
                               "end_krw": "1003039.22", "change_krw": "3289.22",
                               "max_drawdown_krw": "150.4", "max_drawdown_pct": "0.00015"}
    assert total["model"]["total"]["requests"] == 3


def test_period_ending_before_the_sell(report_db: ReportDb) -> None:
    """Until 02:40 (a bare ``--to`` date-time): nothing sold yet, both lots open and
    valued at A7's snapshot price, 100,000,000: 0.0016 BTC = 160,000 against a cost of
    160,000.4."""
    period = Period(None, parse_instant("2026-03-02T02:40:00+00:00", what="--to", end=True))
    total = report(report_db, Scope(period))["by_mode"]["dry"]["total"]
    assert total["pnl"]["realised_krw"] == "0"
    assert total["pnl"]["unrealised_krw"] == "-0.4"
    assert total["pnl"]["open_volume"] == {"KRW-BTC": "0.0016"}
    assert total["pnl"]["last_price"] == {"KRW-BTC": "100000000"}
    assert total["fees"]["paid_krw"] == "400"  # 250 + 150
    assert total["runs"]["count"] == 7


def test_period_without_activity(report_db: ReportDb) -> None:
    period = Period(parse_instant("2027-01-01", what="--from", end=False), None)
    data = report(report_db, Scope(period))
    assert data["strategies"] == [] and data["modes"] == []
    assert data["by_mode"] == {} and data["backtests"] == {}


def test_a_mode_asked_for_is_reported_even_when_empty(report_db: ReportDb) -> None:
    data = report(report_db, Scope(Period(), modes=("live",)))
    assert data["modes"] == ["live"] and data["strategies"] == []
    live = data["by_mode"]["live"]
    assert live["strategies"] == [] and live["by_strategy"] == {}
    assert live["total"]["runs"]["count"] == 0
    assert live["total"]["equity"]["start_krw"] is None
    assert live["total"]["slippage"]["single_vs_arrival"] == NO_SLIPPAGE
