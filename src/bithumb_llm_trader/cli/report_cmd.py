"""``bithumb-trader report``: read the database back as tables, JSON, CSV and a chart.

Thin on purpose: parse the options, open the database read-only, let ``report`` do the
work, write where asked. Each run mode (dry, live, backtest) is reported on its own;
``--mode`` keeps some, ``--backtest`` picks the backtest read. Every known fault (no
such file, foreign database, unknown strategy or backtest, bad period, missing ``plots``
extra, unwritable output) ends with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import typer
from rich.console import Console

from ..clock import SystemClock
from ..config import DatabaseConfig
from ..errors import StopError
from ..ports import Clock
from ..report import (
    Report,
    ReportSource,
    Scope,
    build_report,
    chart_format,
    chart_series,
    open_report_source,
    parse_period,
    render_json,
    render_table,
    require_matplotlib,
    write_chart,
    write_csv,
)
from ..report.models import compare_models, comparison_dicts, render_models
from .commands import ModeChoice, OutputFormat
from .common import EXIT_USAGE, fail, handled_errors, load

TABLE_WIDTH = 100
"""Columns the table layout is designed for; used whenever stdout is not a terminal."""


def command(
    ctx: typer.Context, *, db: str | None, config: str | None, since: str | None,
    start: str | None, end: str | None, strategy: list[str] | None,
    mode: list[ModeChoice] | None, backtest: str | None, output_format: OutputFormat,
    output: str | None, chart: str | None, models: bool,
) -> None:
    """Report from the database without changing it; the options are
    ``cli.commands.report``'s."""
    if ctx.args:
        extra = " ".join(ctx.args)
        fail(f"unexpected arguments: {extra} (see bithumb-trader report --help)")
    clock: Clock = dict(ctx.obj or {}).get("clock") or SystemClock()
    try:
        period = parse_period(since=since, start=start, end=end, now=clock.now())
        if chart is not None:
            chart_format(chart)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    modes = tuple(choice.value for choice in ModeChoice if choice in (mode or ()))
    if backtest is not None and modes and ModeChoice.BACKTEST.value not in modes:
        fail("--backtest picks backtest rows, but --mode leaves backtests out", EXIT_USAGE)
    if models and (chart is not None or output_format is OutputFormat.CSV):
        fail("--models prints a table or JSON (not with --chart or --format csv)", EXIT_USAGE)
    with handled_errors():
        if chart is not None:
            require_matplotlib()
        scope = Scope(period=period, strategies=tuple(dict.fromkeys(strategy or ())),
                      modes=modes, backtest=backtest or None)
        source = open_report_source(_database_url(db, config))
        try:
            if models:
                _produce_models(source, scope, output_format, output)
            else:
                _produce(source, scope, output_format, output, chart, clock)
        finally:
            source.close()


def _database_url(db: str | None, config: str | None) -> str:
    if db:
        return db
    if config:
        return load(config).database.url
    return DatabaseConfig().url


def _produce(
    source: ReportSource,
    scope: Scope,
    output_format: OutputFormat,
    output: str | None,
    chart: str | None,
    clock: Clock,
) -> None:
    report = None
    if output_format is not OutputFormat.CSV or chart is not None:
        report = build_report(source, scope, now=clock.now())
    with _destination(output, csv=output_format is OutputFormat.CSV) as out:
        if output_format is OutputFormat.CSV:
            write_csv(source, scope, out)
        elif output_format is OutputFormat.JSON:
            assert report is not None
            out.write(render_json(report))
        else:
            assert report is not None
            terminal = output is None and out.isatty()
            console = Console(file=out, width=None if terminal else TABLE_WIDTH,
                              force_terminal=terminal, highlight=False)
            render_table(report, console)
    if chart is not None and report is not None:
        _write_chart(source, scope, report, chart)


def _produce_models(source: ReportSource, scope: Scope, output_format: OutputFormat,
                    output: str | None) -> None:
    compared = compare_models(source, scope)
    with _destination(output, csv=False) as out:
        if output_format is OutputFormat.JSON:
            out.write(json.dumps({"models": comparison_dicts(compared)}, indent=2) + "\n")
            return
        terminal = output is None and out.isatty()
        render_models(compared, Console(file=out, width=None if terminal else TABLE_WIDTH,
                                        force_terminal=terminal, highlight=False))


def _write_chart(source: ReportSource, scope: Scope, report: Report, path: str) -> None:
    series = chart_series(source, scope)
    try:
        write_chart(report, series, path)
    except OSError as exc:
        raise StopError(f"cannot write the chart {path}: {exc.strerror or exc}") from exc


@contextmanager
def _destination(output: str | None, *, csv: bool) -> Iterator[TextIO]:
    """stdout, or ``output`` opened for writing; a file left half-written by a failure
    is removed, so a failed report never looks like a finished one."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(output)
    try:
        handle = path.open("w", encoding="utf-8", newline="" if csv else None)
    except OSError as exc:
        raise StopError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with handle:
            yield handle
    except BaseException:
        path.unlink(missing_ok=True)
        raise
