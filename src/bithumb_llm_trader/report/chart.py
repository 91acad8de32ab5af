"""``--chart FILE``: the equity curves with buys and sells marked, and a slippage histogram.

One row of plots per mode: a paper account of a million and a live one of fifty million
share no axis, and no line ever runs from one mode's points to another's.

matplotlib is an optional extra (``plots``), imported only here and only when a chart
is asked for, so the trader installs without it. The figure is built with
``matplotlib.figure.Figure`` rather than ``pyplot``, which keeps global state. The
report's exact Decimals become floats at this point only, to be drawn.
"""

from __future__ import annotations

import html
import importlib
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..domain import Side
from ..errors import MissingDependency
from ..store import schema as s
from ..store.connect import store_error
from .backtests import resolve
from .ledger import equity_curves
from .model import Report
from .queries import Scope, equity_stmt, within
from .source import ReportSource

PLOTS_INSTALL = "pip install 'bithumb-llm-trader[plots]'"
FORMATS = {".png": "png", ".svg": "svg", ".html": "html", ".htm": "html"}
_MANY_MARKERS = 200


@dataclass(frozen=True, slots=True)
class TradeMarker:
    """A filled order placed on the equity curve: when, which way, at what equity."""

    mode: str
    strategy: str
    at: datetime
    side: str
    equity_krw: Decimal


def chart_format(path: str) -> str:
    """``png``, ``svg`` or ``html`` from the file's suffix.

    Raises:
        ValueError: any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--chart must end in .png, .svg or .html, got {path!r}")
    return FORMATS[suffix]


def require_matplotlib() -> None:
    """Fail early, before any reading, when the ``plots`` extra is not installed.

    Raises:
        MissingDependency: matplotlib cannot be imported; the message says how to install it.
    """
    try:
        importlib.import_module("matplotlib")
    except ImportError as exc:
        raise MissingDependency(
            f"--chart needs matplotlib, which comes with the 'plots' extra: {PLOTS_INSTALL}"
        ) from exc


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """The curves and markers a chart draws, read only when a chart is asked for:
    ``equity`` is mode -> strategy -> points."""

    equity: dict[str, dict[str, tuple[tuple[datetime, Decimal], ...]]]
    markers: list[TradeMarker]


def chart_series(source: ReportSource, scope: Scope) -> ChartSeries:
    """The equity curve of each mode and strategy, and its filled trades (of the same
    backtests as the report: ``backtests.resolve``)."""
    try:
        with source.engine.connect() as conn:
            scope, _ = resolve(conn, scope, source.label)
            curves = equity_curves(conn.execute(equity_stmt(scope)))
    except SQLAlchemyError as exc:
        raise store_error(exc, source.label, "reading equity from", source.engine.url) from exc
    return ChartSeries(equity=curves, markers=trade_markers(source, scope))


def trade_markers(source: ReportSource, scope: Scope) -> list[TradeMarker]:
    """Filled executions with the equity of their cycle (engine orders and TWAPs)."""
    ex, runs = s.llm_executions, s.cron_runs
    statement = (
        select(ex.c.mode, ex.c.strategy, ex.c.created_at, ex.c.side, runs.c.total_equity_krw)
        .select_from(ex.join(runs, ex.c.run_id == runs.c.run_id))
        .where(ex.c.method != "none", ex.c.avg_price.is_not(None), ex.c.side.is_not(None),
               runs.c.total_equity_krw.is_not(None), *within(ex, ex.c.created_at, scope))
        .order_by(ex.c.created_at)
    )
    try:
        with source.engine.connect() as conn:
            return [TradeMarker(*row) for row in conn.execute(statement)]
    except SQLAlchemyError as exc:
        raise store_error(exc, source.label, "reading trades from", source.engine.url) from exc


def write_chart(report: Report, series: ChartSeries, path: str) -> None:
    """Draw the chart and write it to ``path`` in the format its suffix names."""
    kind = chart_format(path)
    require_matplotlib()
    figure = _figure(report, series)
    if kind != "html":
        figure.savefig(path, format=kind)
        return
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    svg = svg[svg.find("<svg"):]
    title = html.escape(f"bithumb-trader report: {report.database}")
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
        f"<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{svg}\n</body>\n</html>\n"
    )
    Path(path).write_text(page, encoding="utf-8")


def _figure(report: Report, series: ChartSeries) -> Any:
    figure_module = importlib.import_module("matplotlib.figure")
    modes = list(report.modes) or list(series.equity) or ["none"]
    figure = figure_module.Figure(figsize=(11, 1 + 3.5 * len(modes)), layout="constrained")
    axes = figure.subplots(len(modes), 2, width_ratios=[2, 1], squeeze=False)
    for row, mode in enumerate(modes):
        _equity_axes(axes[row][0], mode, series)
        _slippage_axes(axes[row][1], mode, report.chart.slippage_bps.get(mode, ()))
    return figure


def _equity_axes(axes: Any, mode: str, series: ChartSeries) -> None:
    """One mode's curves, one line per strategy, with its filled trades marked."""
    curves = series.equity.get(mode, {})
    for strategy, points in curves.items():
        axes.plot([at for at, _ in points], [float(v) for _, v in points],
                  label=f"{strategy} ({mode})", linewidth=1)
    markers = [m for m in series.markers if m.mode == mode]
    for side, shape, colour, label in ((Side.BUY.value, "^", "tab:green", "buy"),
                                       (Side.SELL.value, "v", "tab:red", "sell")):
        chosen = [m for m in markers if m.side == side]
        if chosen:  # small markers when there are thousands, or they hide the curve
            axes.scatter([m.at for m in chosen], [float(m.equity_krw) for m in chosen],
                         marker=shape, color=colour, label=label, zorder=3,
                         s=24 if len(chosen) < _MANY_MARKERS else 4)
    axes.set_title(f"Equity, mode {mode} (KRW)")
    axes.set_ylabel("KRW")
    if curves or markers:
        axes.legend(loc="best", fontsize="small")


def _slippage_axes(axes: Any, mode: str, slippage: tuple[Decimal, ...]) -> None:
    values = [float(v) for v in slippage]
    axes.hist(values, bins=max(10, min(50, len(values) // 20)) if values else 10,
              color="tab:blue")
    axes.set_title(f"Slippage vs arrival, mode {mode} (bps, + is worse)")
    axes.set_xlabel("bps")
    axes.set_ylabel("orders and TWAPs")
