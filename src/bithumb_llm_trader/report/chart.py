"""``--chart FILE``: the equity curve with buys and sells marked, and a slippage histogram.

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
    """The curves and markers a chart draws, read only when a chart is asked for."""

    equity: dict[str, tuple[tuple[datetime, Decimal], ...]]
    markers: list[TradeMarker]


def chart_series(source: ReportSource, scope: Scope) -> ChartSeries:
    """The equity curve of each strategy and its filled trades."""
    try:
        with source.engine.connect() as conn:
            curves = equity_curves(conn.execute(equity_stmt(scope)))
    except SQLAlchemyError as exc:
        raise store_error(exc, source.label, "reading equity from", source.engine.url) from exc
    return ChartSeries(equity=curves, markers=trade_markers(source, scope))


def trade_markers(source: ReportSource, scope: Scope) -> list[TradeMarker]:
    """Filled executions with the equity of their cycle (engine orders and TWAPs)."""
    ex, runs = s.llm_executions, s.cron_runs
    statement = (
        select(ex.c.strategy, ex.c.created_at, ex.c.side, runs.c.total_equity_krw)
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
    figure = figure_module.Figure(figsize=(10, 7), layout="constrained")
    equity_axes, slippage_axes = figure.subplots(2, 1, height_ratios=[2, 1])
    markers = series.markers
    for strategy, points in series.equity.items():
        equity_axes.plot([at for at, _ in points], [float(v) for _, v in points],
                         label=strategy, linewidth=1)
    for side, shape, colour, label in ((Side.BUY.value, "^", "tab:green", "buy"),
                                       (Side.SELL.value, "v", "tab:red", "sell")):
        chosen = [m for m in markers if m.side == side]
        if chosen:  # small markers when there are thousands, or they hide the curve
            equity_axes.scatter([m.at for m in chosen], [float(m.equity_krw) for m in chosen],
                                marker=shape, color=colour, label=label, zorder=3,
                                s=24 if len(chosen) < _MANY_MARKERS else 4)
    equity_axes.set_title("Equity (KRW)")
    equity_axes.set_ylabel("KRW")
    if series.equity or markers:
        equity_axes.legend(loc="best", fontsize="small")
    values = [float(v) for v in report.chart.slippage_bps]
    slippage_axes.hist(values, bins=max(10, min(50, len(values) // 20)) if values else 10,
                       color="tab:blue")
    slippage_axes.set_title("Slippage against the arrival price (bps, positive is worse)")
    slippage_axes.set_xlabel("bps")
    slippage_axes.set_ylabel("orders and TWAPs")
    return figure
