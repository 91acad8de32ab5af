"""Ten candles, a scripted decider, and every figure of the result worked out by hand.

The book (see ``helpers.config``) quotes one 1,000 KRW tick either side of the price
and holds 10 billion KRW a level; fees are 0.25 %, truncated to 0.01 KRW per fill.

    candle  open         high         low          close        what happens
    c0      101,000,000  101,100,000  100,900,000  101,000,000  buy decided at the close
    c1      102,040,000  102,500,000  102,000,000  102,400,000  buy fills at this open
    c2      102,400,000  102,600,000  101,800,000  102,000,000
    c3      101,000,000  101,200,000   99,500,000   99,800,000  stop hit inside: exit
    c4       99,800,000  100,000,000   99,700,000   99,900,000  second buy decided
    c5       99,999,000  101,000,000   99,500,000  100,800,000  it fills at this open
    c6      100,800,000  104,500,000  100,700,000  104,200,000  target hit inside: exit
    c7      104,200,000  104,300,000  104,100,000  104,200,000
    c8      104,200,000  104,300,000  104,100,000  104,300,000
    c9      104,300,000  104,400,000  104,200,000  104,400,000  last: no decision

First buy (at c0's close, equity 1,000,000): risk 1 % over a 2 % stop = 500,000 KRW,
within every cap. At c1's open the ask is 102,041,000: volume floor(500,000 /
102,041,000, 8 dp) = 0.00489999, funds 499,999.87959, fee floor(1,249.99969897) =
1,249.99; KRW left 498,750.13041. Guard: stop 102,041,000 * 0.98 = 100,000,180 up to
the tick = 100,001,000; target 106,122,640 down to 106,122,000.
Exit: c3 opens above the stop and trades down through it: sold at the stop, into the bid
one tick under it, 100,000,000: 489,999 KRW, fee floor(1,224.9975) = 1,224.99; KRW
987,524.14041. Round trip: 488,774.01 - 501,249.86959 = -12,475.85959.

Second buy (at c4's close, equity 987,524.14041): risk 1.1 % over 2 % = 543,138 KRW,
cut to the 500,000 trade cap. At c5's open the ask is 100,000,000: exactly 0.005 BTC,
fee 1,250.00; KRW 486,274.14041. Guard: stop 98,000,000, target 104,000,000.
Exit: c6 trades up through the target: sold into the bid under it, 103,999,000:
519,995 KRW, fee floor(1,299.9875) = 1,299.98; KRW 1,004,969.16041. Round trip:
518,695.02 - 501,250 = +17,445.02.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from bithumb_llm_trader.backtest import BacktestResult
from bithumb_llm_trader.store import SqlStore

from .helpers import (
    HOLD,
    T0,
    ScriptedDecider,
    buy,
    candle_rows,
    config,
    rows,
    run_backtest,
    write_csv,
)

D = Decimal
CANDLES = [
    (101_000_000, 101_100_000, 100_900_000, 101_000_000),
    (102_040_000, 102_500_000, 102_000_000, 102_400_000),
    (102_400_000, 102_600_000, 101_800_000, 102_000_000),
    (101_000_000, 101_200_000, 99_500_000, 99_800_000),
    (99_800_000, 100_000_000, 99_700_000, 99_900_000),
    (99_999_000, 101_000_000, 99_500_000, 100_800_000),
    (100_800_000, 104_500_000, 100_700_000, 104_200_000),
    (104_200_000, 104_300_000, 104_100_000, 104_200_000),
    (104_200_000, 104_300_000, 104_100_000, 104_300_000),
    (104_300_000, 104_400_000, 104_200_000, 104_400_000),
]
VOLUME = D("0.00489999")
SECOND = D("0.005")
KRW_END = D("1004969.16041")
EQUITY = [  # at each close: KRW + the coin at the close
    D("993649.12041"),  # 498,750.13041 + 0.00489999 * 101,000,000
    D("1000509.10641"),  # + 0.00489999 * 102,400,000
    D("998549.11041"),  # + 0.00489999 * 102,000,000
    D("987524.14041"),  # after the stop
    D("985774.14041"),  # 486,274.14041 + 0.005 * 99,900,000 (bought during this close)
    D("990274.14041"),  # + 0.005 * 100,800,000
    KRW_END, KRW_END, KRW_END, KRW_END,  # after the target
]
MINUTES_A_YEAR = 365 * 24 * 60


def run(tmp_path: Path) -> tuple[BacktestResult, SqlStore, ScriptedDecider]:
    data = write_csv(tmp_path / "candles.csv", candle_rows(CANDLES))
    decider = ScriptedDecider([buy(), HOLD, HOLD, HOLD, buy(risk_pct="0.011")])
    cfg = config(risk={"max_risk_pct": "0.02"}, allocation={"max_single_order_pct": "0.6"})
    result, store = run_backtest(cfg, data, decider)
    return result, store, decider


def test_the_headline_figures_match_the_hand_computation(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    figures = result.results

    assert figures["initial_equity_krw"] == D(1_000_000)
    assert figures["final_equity_krw"] == KRW_END
    assert figures["total_return"] == D("0.00496916")  # 1,004,969.16041 / 1e6 - 1
    assert figures["fees_krw"] == D("5024.96")  # 1,249.99 + 1,224.99 + 1,250 + 1,299.98
    assert figures["trades"] == 4
    assert figures["round_trips"] == 2 and figures["win_rate"] == 0.5
    assert figures["exposure"] == 0.5  # c0, c1, c2, c4 and c5 closed holding
    assert figures["model_cost_usd"] == 0
    # Buy and hold from c0's open to c9's close: 104.4 M / 101 M - 1.
    assert figures["buy_and_hold_return"] == D("0.03366337")
    # The peak before the trough is c1's close; the trough is c4's close.
    drawdown = 1 - D("985774.14041") / D("1000509.10641")
    assert math.isclose(figures["max_drawdown"], float(drawdown), abs_tol=1e-6)


def test_sharpe_and_sortino_follow_from_the_equity_at_each_close(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    figures = result.results
    values = [D(1_000_000), *EQUITY]
    returns = [float(b / a - 1) for a, b in pairwise(values)]
    scale = math.sqrt(MINUTES_A_YEAR)
    sharpe = statistics.mean(returns) / statistics.stdev(returns) * scale
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    sortino = statistics.mean(returns) / downside * scale

    assert math.isclose(figures["sharpe"], sharpe, rel_tol=1e-5)
    assert math.isclose(figures["sortino"], sortino, rel_tol=1e-5)
    held = [(VOLUME, D(101_000_000), EQUITY[0]), (VOLUME, D(102_400_000), EQUITY[1]),
            (VOLUME, D(102_000_000), EQUITY[2]), (SECOND, D(99_900_000), EQUITY[4]),
            (SECOND, D(100_800_000), EQUITY[5])]
    average = sum(float(size * close / equity) for size, close, equity in held) / 10
    assert math.isclose(figures["average_exposure"], average, abs_tol=1e-6)


def test_decisions_are_taken_at_closes_and_filled_at_the_next_open(tmp_path: Path) -> None:
    result, store, decider = run(tmp_path)

    # One decision per close with a next candle (c0..c8); the exits ask no one.
    assert [seen.taken_at.minute for seen in decider.seen] == list(range(1, 10))
    assert [seen.last_price for seen in decider.seen] == [D(c[3]) for c in CANDLES[:9]]
    assert [len(seen.candles) for seen in decider.seen] == [1, 2, 3, 4, 5, 5, 5, 5, 5]
    assert [seen.position for seen in decider.seen] == [
        0, VOLUME, VOLUME, 0, 0, SECOND, 0, 0, 0]

    fills = sorted(rows(store, "fills"), key=lambda f: f["created_at"])
    assert [(f["side"], f["price"], f["volume"], f["funds"], f["fee"], f["created_at"])
            for f in fills] == [
        ("bid", D(102_041_000), VOLUME, D("499999.87959"), D("1249.99"), minute(1)),
        ("ask", D(100_000_000), VOLUME, D(489_999), D("1224.99"), minute(3, 30)),
        ("bid", D(100_000_000), SECOND, D(500_000), D("1250.00"), minute(5)),
        ("ask", D(103_999_000), SECOND, D(519_995), D("1299.98"), minute(6, 30)),
    ]
    details = result.to_dict()
    assert details["cycles"]["protective_exits"] == {"stop_loss": 1, "take_profit": 1}
    assert details["trades"]["realized_pnl_krw"] == "4969.16"  # -12,475.86 + 17,445.02


def minute(minutes: int, seconds: int = 0) -> datetime:
    """Fills of a decision happen at its close (the next open); exits mid-candle."""
    return T0.replace(minute=minutes, second=seconds)


def test_every_cycle_and_the_result_are_stored_apart_from_the_live_state(
    tmp_path: Path,
) -> None:
    result, store, _ = run(tmp_path)

    runs = rows(store, "cron_runs")
    assert {run["mode"] for run in runs} == {"backtest"}
    summary = [run for run in runs if run["run_id"] == result.backtest_id]
    cycles = [run for run in runs if run["run_id"] != result.backtest_id]
    assert len(summary) == 1 and len(cycles) == 11  # nine decisions and two exits
    assert all(run["run_id"].startswith("0123456789") for run in cycles)
    document = summary[0]["result_json"]
    assert document["kind"] == "backtest" and document["run_id_prefix"] == "0123456789"
    assert document["results"]["total_return"] == "0.00496916"
    assert summary[0]["total_equity_krw"] is None  # never a live daily-loss baseline
    # The paper wallet and the guards of the replay never reach the database.
    assert rows(store, "paper_wallets") == [] and rows(store, "position_guards") == []
    assert len(rows(store, "orders")) == 4


def test_the_trade_table_holds_the_two_round_trips_worked_out_above(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    details = result.to_dict()
    first_cost, second_cost = D("501249.86959"), D(501_250)
    assert result.details["trade_list"] == [
        {"number": 1, "entry_at": minute(1), "exit_at": minute(3, 30),
         "entry_price": D("102041000.00"), "exit_price": D("100000000.00"), "volume": VOLUME,
         "cost_krw": first_cost, "proceeds_krw": D("488774.01"), "pnl_krw": D("-12475.86"),
         "pnl_pct": (D("-12475.85959") / first_cost).quantize(D("1e-8")),
         "fees_krw": D("2474.98"), "duration_s": 150, "exit_reason": "stop_loss",
         "stop_loss_price": D(100_001_000), "take_profit_price": D(106_122_000),
         "buy_fills": 1, "sell_fills": 1},
        {"number": 2, "entry_at": minute(5), "exit_at": minute(6, 30),
         "entry_price": D("100000000.00"), "exit_price": D("103999000.00"), "volume": SECOND,
         "cost_krw": second_cost, "proceeds_krw": D("518695.02"), "pnl_krw": D("17445.02"),
         "pnl_pct": (D("17445.02") / second_cost).quantize(D("1e-8")),
         "fees_krw": D("2549.98"), "duration_s": 90, "exit_reason": "take_profit",
         "stop_loss_price": D(98_000_000), "take_profit_price": D(104_000_000),
         "buy_fills": 1, "sell_fills": 1},
    ]
    # The JSON holds the same rows, every number an exact string.
    assert details["trade_list"][0]["pnl_krw"] == "-12475.86"
    assert details["trade_list"][1]["exit_at"] == "2025-09-01T00:06:30+00:00"
    reasons = details["exit_reasons"]
    assert set(reasons) == {"stop_loss", "take_profit"}
    assert reasons["stop_loss"]["trades"] == 1 and reasons["stop_loss"]["wins"] == 0
    assert reasons["take_profit"]["pnl_krw"] == "17445.02"
    stats = details["trade_stats"]
    assert (stats["max_win_streak"], stats["max_loss_streak"], stats["current_streak"]) == (
        1, 1, 1)
    assert (stats["average_duration_s"], stats["min_duration_s"], stats["max_duration_s"]) == (
        120, 90, 150)


def test_months_drawdown_costs_and_buy_and_hold_side_by_side(tmp_path: Path) -> None:
    result, _, _ = run(tmp_path)
    details = result.details
    assert details["monthly"] == [{
        "month": "2025-09", "start_equity_krw": D(1_000_000), "end_equity_krw": KRW_END,
        "return": D("0.00496916"), "buy_and_hold_return": D("0.03366337"),
        "trades": 2, "wins": 1, "pnl_krw": D("4969.16"), "fees_krw": D("5024.96"),
    }]
    # The running high before the largest fall is c1's close (00:02), the trough c4's
    # close (00:05); c6's close (00:07) is the first back above it.
    drawdown = details["drawdown"]
    assert (drawdown["peak_at"], drawdown["trough_at"], drawdown["recovered_at"]) == (
        minute(2), minute(5), minute(7))
    assert drawdown["duration_s"] == 300 and drawdown["peak_to_trough_s"] == 180
    assert result.results["max_drawdown_duration_s"] == 300
    assert details["costs"]["fees_share_of_capital"] == D("0.00502496")
    assert result.results["fees_share_of_capital"] == D("0.00502496")
    side = details["comparison"]
    assert side["strategy"]["final_equity_krw"] == D("1004969.16")
    assert side["buy_and_hold"]["return"] == D("0.03366337")
    assert side["buy_and_hold"]["final_equity_krw"] == D("1033663.37")
