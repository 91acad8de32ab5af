"""Our backtest against backtesting.py on the same candles and the same rules.

    pip install -e '.[bench]'     # backtesting.py; this script installs nothing
    python benchmarks/bench_vs_backtesting.py [--data FILE] [--repeat 3] [--records all]

Both replay the 47,598 one-minute candles of September 2025 with the rules decider's
strategy (EMA 12/26 trend filter, Wilder RSI 14 below 70 to enter and above 80 to exit,
a stop of 2 x ATR 14 and a take profit of twice that, entries only when the target pays
the round trip twice, two hours' minimum hold and re-entry cooldown), the indicators on
15-minute candles, and time it in candles per second (one-minute candles read over the
wall time, reading the file included). Two cadences:

* ``15m``: deciding every 15 minutes. backtesting.py walks the one-minute bars (so its
  stops, like ours, fire inside each quarter hour) and decides on every 15th; for
  reference it is also run on the candles resampled to 15-minute bars (``15m bars``),
  which checks stops only once a quarter hour and so is less work than ours.
* ``1m``: deciding on every one-minute candle.

backtesting.py computes its indicators vectorised up front (``Strategy.I`` and
``lib.resample_apply``, as its users do); ours updates them incrementally as each candle
arrives and goes through ``TradingEngine.run_cycle`` as a live run does. Medians of
``--repeat`` runs; the ratio is ours over backtesting.py (above 1: ours is faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backtest import DATA, backtest, sample_config

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar
try:
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest, resample_apply
except ImportError:  # the comparison needs the optional extra
    Strategy = None  # type: ignore[assignment,misc]

FEE = 0.0025  # allocation.fee_rate, taker, both sides
SPREAD = 0.000155  # the synthetic book's 1.55 bps
CASH = 1_000_000.0  # paper.initial_balances


def _seeded_ewm(values: Any, period: int, alpha: float) -> np.ndarray:
    """An exponential average seeded with the mean of its first ``period`` values (NaN
    before), as ``market.features`` computes it."""
    x = pd.Series(np.asarray(values, dtype=float)).dropna()
    out = np.full(len(values), np.nan)
    if len(x) < period:
        return out
    start = x.index[0]
    seeded = pd.concat([pd.Series([x.iloc[:period].mean()]), x.iloc[period:]])
    smooth = seeded.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    out[start + period - 1:start + period - 1 + len(smooth)] = smooth
    return out


def ema(close: Any, period: int) -> np.ndarray:
    return _seeded_ewm(close, period, 2 / (period + 1))


def rsi(close: Any, period: int) -> np.ndarray:
    change = np.diff(np.asarray(close, dtype=float), prepend=np.nan)
    gain = _seeded_ewm(np.where(np.isnan(change), np.nan, np.maximum(change, 0)), period,
                       1 / period)
    loss = _seeded_ewm(np.where(np.isnan(change), np.nan, np.maximum(-change, 0)), period,
                       1 / period)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100 - 100 / (1 + gain / loss)
    value[(loss == 0) & (gain > 0)] = 100.0
    value[(loss == 0) & (gain == 0)] = 50.0
    return value


def atr(high: Any, low: Any, close: Any, period: int) -> np.ndarray:
    high, low, close = (np.asarray(a, dtype=float) for a in (high, low, close))
    prev = np.concatenate([[np.nan], close[:-1]])
    true_range = np.fmax(high - low, np.fmax(np.abs(high - prev), np.abs(low - prev)))
    true_range[0] = np.nan
    return _seeded_ewm(true_range, period, 1 / period)


def frame_atr(bars: pd.DataFrame, period: int) -> np.ndarray:
    """``atr`` of an OHLC frame (``resample_apply`` resamples only its first argument)."""
    return atr(bars.High, bars.Low, bars.Close, period)


def rules_strategy(every: int, resampled: str | None) -> type:
    """The rules decider's strategy as a backtesting.py ``Strategy``: deciding every
    ``every`` bars, indicators on bars resampled to ``resampled`` (None: the bars as
    given)."""
    params = sample_config().strategy.rules
    fast, slow, period = params.ema_fast, params.ema_slow, params.rsi_period
    buy_below, sell_above = float(params.rsi_buy_below), float(params.rsi_sell_above)
    multiple, reward = float(params.atr_stop_multiple), float(params.reward_risk)
    risk, needed = float(params.risk_pct), (1 + float(params.edge_margin)) * (2 * FEE + SPREAD)
    hold, cooldown = params.min_hold, params.reentry_cooldown

    class Rules(Strategy):  # type: ignore[misc,valid-type]
        def init(self) -> None:
            data = self.data
            if resampled is None:
                self.fast = self.I(ema, data.Close, fast)
                self.slow = self.I(ema, data.Close, slow)
                self.rsi = self.I(rsi, data.Close, period)
                self.atr = self.I(atr, data.High, data.Low, data.Close, params.atr_period)
            else:
                self.fast = resample_apply(resampled, ema, data.Close, fast)
                self.slow = resample_apply(resampled, ema, data.Close, slow)
                self.rsi = resample_apply(resampled, rsi, data.Close, period)
                self.atr = resample_apply(resampled, frame_atr, data.df, params.atr_period)
            self.bought_at: Any = None
            self.exited_at: Any = None
            self.held = False

        def next(self) -> None:
            if len(self.data) % every:
                return
            now, holding = self.data.index[-1], bool(self.position)
            if self.held and not holding:
                self.exited_at = now
            self.held = holding
            close, f, s, r, a = (self.data.Close[-1], self.fast[-1], self.slow[-1],
                                 self.rsi[-1], self.atr[-1])
            if np.isnan(f) or np.isnan(s) or np.isnan(r) or np.isnan(a):
                return
            if holding and (f < s or r > sell_above):
                if now - self.bought_at >= hold:
                    self.position.close()
                return
            if not (f > s and close > s and r < buy_below):
                return
            stop = min(max(np.ceil(multiple * a / close * 1e4) / 1e4, 1e-4), 0.5)
            target = min(reward * stop, 1.0)
            since = self.bought_at if holding else self.exited_at
            if target < needed or (since is not None and now - since < (
                    hold if holding else cooldown)):
                return
            self.buy(size=min(risk / stop, 0.1), sl=close * (1 - stop),
                     tp=close * (1 + target))
            self.bought_at, self.held = now, True

    return Rules


def run_backtesting(data: Path, every: int, resample_to: str | None,
                    indicators_on: str | None) -> tuple[float, str]:
    """Seconds for one backtesting.py run (reading the file included), and its trades
    and return."""
    started = time.perf_counter()
    frame = pd.read_csv(data, index_col="timestamp", parse_dates=True)
    frame.columns = [name.capitalize() for name in frame.columns]
    if resample_to is not None:
        frame = frame.resample(resample_to, label="right", closed="right").agg(
            {"Open": "first", "High": "max", "Low": "min", "Close": "last",
             "Volume": "sum"}).dropna()
    runner = FractionalBacktest(frame, rules_strategy(every, indicators_on), cash=CASH,
                                commission=FEE, spread=SPREAD, finalize_trades=True,
                                fractional_unit=1e-8)
    stats = runner.run()
    seconds = time.perf_counter() - started
    return seconds, f"{stats['# Trades']} trades, return {stats['Return [%]'] / 100:+.2%}"


def median_rate(candles: int, runs: Callable[[], float], repeat: int) -> float:
    return statistics.median(candles / runs() for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--records", default="all", choices=("all", "trades", "none"))
    args = parser.parse_args()
    if Strategy is None:
        print("backtesting.py is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    if not args.data.exists():
        print(f"no data file at {args.data}", file=sys.stderr)
        return 2
    config = sample_config()
    candles = sum(1 for _ in args.data.open()) - 1
    theirs = {  # cadence: (bars walked, decide every n bars, indicators resampled to)
        "15m": (None, 15, "15min"),
        "15m bars": ("15min", 1, None),
        "1m": (None, 1, "15min"),
    }
    print(f"{args.data.name}: {candles:,} one-minute candles, median of {args.repeat}, "
          f"candles/s (ours records={args.records})")
    with tempfile.TemporaryDirectory() as tmp:
        ours: dict[str, float] = {}
        for every in ("15m", "1m"):
            results: list[Any] = []

            def one(every: str = every, results: list[Any] = results) -> float:
                db = Path(tmp) / f"{every}-{len(results)}.db"
                result, seconds = backtest(config, args.data, every, args.records, db)
                results.append(result.to_dict())
                return seconds

            ours[every] = median_rate(candles, one, args.repeat)
            summary = results[-1]["results"]
            print(f"  ours              {every:>8}: {ours[every]:9,.0f}  "
                  f"({summary['round_trips']} round trips, return "
                  f"{float(summary['total_return']):+.2%})")
        for name, (bars, every_n, indicators) in theirs.items():
            trades: list[str] = []

            def theirs_once(bars: str | None = bars, every_n: int = every_n,
                            indicators: str | None = indicators,
                            trades: list[str] = trades) -> float:
                seconds, summary = run_backtesting(args.data, every_n, bars, indicators)
                trades.append(summary)
                return seconds

            rate = median_rate(candles, theirs_once, args.repeat)
            mine = ours[name.split()[0]]
            print(f"  backtesting.py {name:>8}: {rate:9,.0f}  ours / theirs = {mine / rate:.3f}x"
                  f"  ({trades[-1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
