"""``backtest --plot FILE.html``: one self-contained page, inline SVG, no script, no network.

The top panel draws the window's candles (summed into at most ``MAX_BARS`` bars so a
month of minutes stays readable), each trade's entry (green triangle up) and exit
(triangle down, coloured by its exit reason), and its stop-loss and take-profit as
dashed segments from entry to exit. The panel underneath is the equity of the strategy
and of buy-and-hold from the same capital, rebuilt from the fills and the closes. Every
marker has a tooltip (SVG ``<title>``) with the trade's figures.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..domain import ZERO, Candle, Side
from .candles import open_candle_file
from .results import BacktestResult
from .trades import FillPoint

MAX_BARS = 400
WIDTH, PRICE_H, EQUITY_H, PAD = 1200, 420, 200, 60
REASON_COLOURS = {"signal": "#1f6feb", "stop_loss": "#d1242f", "take_profit": "#1a7f37",
                  "end_of_data": "#6e7781", "halted": "#bf8700"}


@dataclass(frozen=True, slots=True)
class Bar:
    start: datetime
    end: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def write_plot(result: BacktestResult, data: Path, target: Path,
               initial_balances: dict[str, Decimal], base: str) -> None:
    """Write the page for ``result`` (replayed from ``data``) to ``target``."""
    start, end = result.window_start, result.window_end
    candles = [c for c in open_candle_file(data)
               if start is not None and end is not None and start <= c.start < end]
    bars = bucket(candles, MAX_BARS)
    target.write_text(page(result, bars, result.fills, initial_balances, base),
                      encoding="utf-8")


def bucket(candles: Sequence[Candle], most: int) -> list[Bar]:
    """The candles summed into at most ``most`` consecutive bars; a bar ends at its
    last candle's close."""
    if not candles:
        return []
    step = candles[1].start - candles[0].start if len(candles) > 1 else timedelta(minutes=1)
    size = max(1, -(-len(candles) // most))
    bars = []
    for index in range(0, len(candles), size):
        group = candles[index:index + size]
        bars.append(Bar(group[0].start, group[-1].start + step, group[0].open,
                        max(c.high for c in group), min(c.low for c in group),
                        group[-1].close))
    return bars


def equity_points(bars: Sequence[Bar], fills: Iterable[FillPoint],
                  initial_balances: dict[str, Decimal], base: str) -> list[Decimal]:
    """The account's value at each bar's close: cash and coin changed by every fill
    made before that close, the coin valued at the close."""
    pending = sorted(fills, key=lambda fill: fill.at)
    krw, coin = initial_balances.get("KRW", ZERO), initial_balances.get(base, ZERO)
    values, index = [], 0
    for bar in bars:
        while index < len(pending) and pending[index].at <= bar.end:
            fill = pending[index]
            if fill.side == Side.BUY.value:
                krw, coin = krw - fill.funds - fill.fee, coin + fill.volume
            else:
                krw, coin = krw + fill.funds - fill.fee, coin - fill.volume
            index += 1
        values.append(krw + coin * bar.close)
    return values


class _Scale:
    """Maps times and values to the page's pixels."""

    def __init__(self, first: datetime, last: datetime, low: float, high: float,
                 top: float, height: float) -> None:
        self.first, self.span = first, max((last - first).total_seconds(), 1.0)
        self.low, self.range = low, (high - low) or 1.0
        self.top, self.height = top, height

    def x(self, moment: datetime) -> float:
        return PAD + (moment - self.first).total_seconds() / self.span * (WIDTH - 2 * PAD)

    def y(self, value: Decimal | float) -> float:
        return self.top + self.height * (1 - (float(value) - self.low) / self.range)


def page(result: BacktestResult, bars: Sequence[Bar], fills: Sequence[FillPoint],
         initial_balances: dict[str, Decimal], base: str) -> str:
    """The whole HTML document."""
    document = result.to_dict()
    trades: list[dict[str, Any]] = result.details.get("trade_list", [])
    capital = result.results.get("initial_equity_krw")
    body = (_svg(bars, trades, equity_points(bars, fills, initial_balances, base), capital)
            if bars else "<p>No candle in the window.</p>")
    figures = document["results"]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in figures.items())
    title = html.escape(f"backtest {result.strategy} {result.market}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            "<style>body{font:14px sans-serif;margin:20px}table{border-collapse:collapse}"
            "th{text-align:left;padding-right:12px}td,th{border-bottom:1px solid #ddd}"
            "</style></head><body>"
            f"<h1>{title}</h1><p>{html.escape(_window(result))}</p>{body}"
            f"<h2>Figures</h2><table>{rows}</table></body></html>")


def _window(result: BacktestResult) -> str:
    start, end = result.window_start, result.window_end
    if start is None or end is None:
        return "no window"
    data = result.details.get("data", {}).get("file")
    return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC, data {data}"


def _svg(bars: Sequence[Bar], trades: list[dict[str, Any]],
         equity: Sequence[Decimal], capital: Decimal | None) -> str:
    first, last = bars[0].start, bars[-1].end
    levels = [float(b.low) for b in bars] + [float(b.high) for b in bars]
    price = _Scale(first, last, min(levels), max(levels), 20, PRICE_H)
    hold = [capital / bars[0].open * b.close for b in bars] if capital and bars[0].open else []
    both = [float(v) for v in [*equity, *hold]] or [0.0]
    worth = _Scale(first, last, min(both), max(both), PRICE_H + 60, EQUITY_H)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' "
             f"height='{PRICE_H + EQUITY_H + 100}' font-size='11'>"]
    parts += _candles(bars, price)
    parts += _trades(trades, price)
    parts.append(_line(bars, equity, worth, "#1f6feb", "strategy equity"))
    parts.append(_line(bars, hold, worth, "#8c959f", "buy and hold"))
    parts += _labels(bars, price, worth, levels, both)
    parts.append("</svg>")
    return "".join(parts)


def _candles(bars: Sequence[Bar], scale: _Scale) -> list[str]:
    width = max((WIDTH - 2 * PAD) / len(bars) * 0.7, 1.0)
    out = []
    for bar in bars:
        x = scale.x(bar.start)
        colour = "#1a7f37" if bar.close >= bar.open else "#d1242f"
        top, bottom = scale.y(max(bar.open, bar.close)), scale.y(min(bar.open, bar.close))
        out.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{scale.y(bar.high):.1f}' "
                   f"y2='{scale.y(bar.low):.1f}' stroke='{colour}'/>"
                   f"<rect x='{x - width / 2:.1f}' y='{top:.1f}' width='{width:.1f}' "
                   f"height='{max(bottom - top, 0.5):.1f}' fill='{colour}'/>")
    return out


def _trades(trades: list[dict[str, Any]], scale: _Scale) -> list[str]:
    out = []
    for trade in trades:
        entry, exit_at = trade["entry_at"], trade["exit_at"] or trade["entry_at"]
        x0, x1 = scale.x(entry), scale.x(exit_at)
        for level, colour in (("stop_loss_price", "#d1242f"),
                              ("take_profit_price", "#1a7f37")):
            if trade[level] is not None:
                y = scale.y(trade[level])
                out.append(f"<line x1='{x0:.1f}' x2='{max(x1, x0 + 2):.1f}' y1='{y:.1f}' "
                           f"y2='{y:.1f}' stroke='{colour}' stroke-dasharray='3,2'/>")
        tip = html.escape(
            f"trade {trade['number']}: {trade['entry_at']} → {trade['exit_at']}, "
            f"{trade['entry_price']} → {trade['exit_price']}, PnL {trade['pnl_krw']} KRW "
            f"({trade['pnl_pct']}), fees {trade['fees_krw']}, {trade['exit_reason']}")
        y0 = scale.y(trade["entry_price"])
        out.append(f"<path d='M{x0:.1f},{y0 + 2:.1f} l-5,9 h10 z' fill='#1a7f37'>"
                   f"<title>{tip}</title></path>")
        if trade["exit_price"] is not None:
            y1 = scale.y(trade["exit_price"])
            colour = REASON_COLOURS.get(trade["exit_reason"] or "", "#000")
            out.append(f"<path d='M{x1:.1f},{y1 - 2:.1f} l-5,-9 h10 z' fill='{colour}'>"
                       f"<title>{tip}</title></path>")
    return out


def _line(bars: Sequence[Bar], values: Sequence[Decimal], scale: _Scale, colour: str,
          name: str) -> str:
    points = " ".join(f"{scale.x(bar.end):.1f},{scale.y(value):.1f}"
                      for bar, value in zip(bars, values, strict=False))
    return (f"<polyline points='{points}' fill='none' stroke='{colour}' stroke-width='1.5'>"
            f"<title>{html.escape(name)}</title></polyline>")


def _labels(bars: Sequence[Bar], price: _Scale, worth: _Scale, levels: list[float],
            both: list[float]) -> list[str]:
    bottom = PRICE_H + 60 + EQUITY_H + 20
    return [
        f"<text x='4' y='{price.y(max(levels)) + 4:.0f}'>{max(levels):,.0f}</text>",
        f"<text x='4' y='{price.y(min(levels)):.0f}'>{min(levels):,.0f}</text>",
        f"<text x='4' y='{worth.y(max(both)) + 4:.0f}'>{max(both):,.0f}</text>",
        f"<text x='4' y='{worth.y(min(both)):.0f}'>{min(both):,.0f}</text>",
        f"<text x='{PAD}' y='{PRICE_H + 45}'>equity KRW: strategy (blue), buy and hold "
        f"(grey)</text>",
        f"<text x='{PAD}' y='{bottom}'>{bars[0].start:%Y-%m-%d %H:%M} UTC</text>",
        f"<text x='{WIDTH - PAD}' y='{bottom}' text-anchor='end'>"
        f"{bars[-1].end:%Y-%m-%d %H:%M} UTC</text>",
        f"<text x='{PAD + 300}' y='{bottom}'>exits: "
        + "".join(f"<tspan fill='{c}'>{r} </tspan>" for r, c in REASON_COLOURS.items())
        + "</text>",
    ]
