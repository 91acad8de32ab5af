"""Reports read back from the database: runs, decisions, risk, allocations, executions,
slippage, fees, PnL, equity and model use, as rich tables, JSON, CSV or a chart; each
run mode (dry, live, backtest) on its own, and one backtest per strategy.

Reading never changes the database (``source.open_report_source`` opens SQLite
read-only and refuses empty or foreign databases). Figures are aggregated in SQL and
stay exact ``Decimal``s end to end; see ``model`` for what each one means.
"""

from __future__ import annotations

from .build import build_report
from .chart import (
    PLOTS_INSTALL,
    ChartSeries,
    chart_format,
    chart_series,
    require_matplotlib,
    write_chart,
)
from .csv_out import COLUMNS as CSV_COLUMNS
from .csv_out import write_csv
from .json_out import REPORT_VERSION, render_json, report_to_dict
from .model import MODES, BacktestChoice, ModeReport, Report, Section
from .period import Period, parse_period
from .queries import Scope
from .source import ReportSource, open_report_source
from .table import render_table

__all__ = [
    "CSV_COLUMNS",
    "MODES",
    "PLOTS_INSTALL",
    "REPORT_VERSION",
    "BacktestChoice",
    "ChartSeries",
    "ModeReport",
    "Period",
    "Report",
    "ReportSource",
    "Scope",
    "Section",
    "build_report",
    "chart_format",
    "chart_series",
    "open_report_source",
    "parse_period",
    "render_json",
    "render_table",
    "report_to_dict",
    "require_matplotlib",
    "write_chart",
    "write_csv",
]
