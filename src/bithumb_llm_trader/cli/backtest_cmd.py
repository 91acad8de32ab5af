"""``bithumb-trader backtest``: replay a candle file through the trading cycle.

The JSON result goes to stdout (and into the database as a ``cron_runs`` row of mode
``backtest``); a progress line while it runs, then a short table and every warning, go
to stderr unless ``--json``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, TextColumn
from rich.table import Table

from ..backtest import BacktestResult, BacktestSettings, ReplayProgress
from ..backtest.export import write_trades_csv
from ..backtest.plot import write_plot
from ..backtest.store import KEEP_CHOICES
from ..bootstrap import secrets_of
from ..bootstrap.backtest import run_backtest
from ..config import StrategyConfig
from ..domain import UTC
from . import numbers as n
from .common import (
    EXIT_OK,
    duration_option,
    fail,
    handled_errors,
    load,
    print_json,
    setup_logging,
    stderr,
)
from .live import LiveProgress

DECIDERS = ("rules", "llm")


def command(
    ctx: typer.Context, *, config: str, data: str, start: str | None, end: str | None,
    decider: str | None, decide_every: str | None, records: str, db: str | None,
    json_only: bool, export: str | None, plot: str | None, openai_api_key: str | None,
    verbose: int,
) -> None:
    """Replay historical candles through the same trading cycle and print the figures;
    the options are ``cli.commands.backtest``'s."""
    if ctx.args:
        fail(f"unexpected arguments: {' '.join(ctx.args)}")
    loaded = _with_decider(load(config), decider)
    if records not in KEEP_CHOICES:
        fail(f"--records must be one of {', '.join(KEEP_CHOICES)}")
    settings = BacktestSettings(
        data=Path(data), start=_moment(start, "--from"), end=_moment(end, "--to"),
        decide_every=duration_option(decide_every, "--decide-every"), records=records,
    )
    with handled_errors():
        setup_logging(loaded, verbose, True, secrets_of(loaded, openai_api_key))
        with _ProgressView(None if json_only else stderr()) as view:
            result = asyncio.run(run_backtest(
                loaded, settings, db_url=db or loaded.database.url,
                openai_api_key=openai_api_key, wall_clock=dict(ctx.obj or {}).get("clock"),
                progress=view))
    print_json(result.to_dict(), compact=False)
    _write_files(result, loaded, settings.data, export, plot)
    if not json_only:
        console = stderr()
        console.print(summary_table(result))
        console.print(trades_table(result))
        for warning in result.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
    raise typer.Exit(EXIT_OK)


def _write_files(result: BacktestResult, config: StrategyConfig, data: Path,
                 export: str | None, plot: str | None) -> None:
    try:
        if export:
            write_trades_csv(result.details["trade_list"], Path(export))
        if plot:
            write_plot(result, data, Path(plot), dict(config.paper.initial_balances),
                       config.market.base)
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")


def _with_decider(config: StrategyConfig, decider: str | None) -> StrategyConfig:
    if decider is None:
        return config
    if decider not in DECIDERS:
        fail(f"--decider must be rules or llm, not {decider!r}")
    section = config.strategy.model_copy(update={"decider": decider})
    return config.model_copy(update={"strategy": section})


def _moment(text: str | None, option: str) -> datetime | None:
    """An ISO date or time; without an offset it is UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} must be an ISO date or time such as 2025-09-01 or 2025-09-01T09:00+09:00")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_FIGURES: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("total_return", n.percent), ("buy_and_hold_return", n.percent),
    ("max_drawdown", n.percent), ("sharpe", n.ratio), ("sortino", n.ratio),
    ("trades", n.count), ("round_trips", n.count), ("win_rate", n.percent),
    ("exposure", n.percent), ("fees_krw", lambda fee: n.krw(fee, 2)),
    ("model_cost_usd", n.usd),
)
"""The headline figures in table order, each with how it reads on the terminal."""


def summary_table(result: BacktestResult) -> Table:
    """The headline figures at a glance; the JSON on stdout has everything."""
    figures = result.results
    data = result.to_dict()["data"]
    source = data["source_exchange"]
    table = Table(title=f"backtest {result.strategy} {result.market} on {source} data",
                  show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("window", f"{_moment_text(result.window_start)}"
                  f" → {_moment_text(result.window_end)}")
    table.add_row("equity KRW", f"{n.krw(figures['initial_equity_krw'])}"
                  f" → {n.krw(figures['final_equity_krw'])}")
    for name, shown in _FIGURES:
        table.add_row(name.replace("_", " ").replace(" krw", " KRW").replace(" usd", ""),
                      shown(figures.get(name)))
    table.add_row("data", f"{n.count(data['candles_read'])} candles, {n.count(data['gaps'])}"
                  f" gaps ({n.count(data['missing_candles'])} missing)")
    refused = result.details["cycles"].get("refused_orders") or {}
    if refused:
        reasons = ", ".join(f"{reason} {n.count(count)}" for reason, count in refused.items())
        table.add_row("refused by the gate", f"{n.count(sum(refused.values()))} ({reasons})")
    return table


def trades_table(result: BacktestResult) -> Table:
    """Exit reasons, months and the trade figures: the rest is in the JSON and --export."""
    details = result.details
    table = Table(title="trades", title_justify="left")
    for column in ("", "trades", "wins", "PnL KRW", "return", "buy and hold", "fees KRW"):
        table.add_column(column, justify="right" if column else "left")
    for reason, row in details.get("exit_reasons", {}).items():
        table.add_row(reason, n.count(row["trades"]), n.count(row["wins"]),
                      n.krw(row["pnl_krw"]), n.MISSING, n.MISSING, n.MISSING)
    for month in details.get("monthly", []):
        table.add_row(month["month"], n.count(month["trades"]), n.count(month["wins"]),
                      n.krw(month["pnl_krw"]), n.percent(month["return"]),
                      n.percent(month["buy_and_hold_return"]), n.krw(month["fees_krw"], 2))
    stats, drawdown = details.get("trade_stats", {}), details.get("drawdown", {})
    table.caption = (
        f"durations avg {_seconds(stats.get('average_duration_s'))}, max "
        f"{_seconds(stats.get('max_duration_s'))}; streaks: {stats.get('max_win_streak', 0)}"
        f" wins, {stats.get('max_loss_streak', 0)} losses; max drawdown "
        f"{n.percent(drawdown.get('max_drawdown'))} over "
        f"{_seconds(drawdown.get('duration_s'))}; fees "
        f"{n.percent(result.results.get('fees_share_of_capital'))} of capital")
    return table


def _seconds(value: int | None) -> str:
    if value is None:
        return n.MISSING
    hours, rest = divmod(int(value), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _moment_text(moment: datetime | None) -> str:
    return n.MISSING if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


class _ProgressView(LiveProgress):
    """One live line on stderr: where in the data the replay is and how it is doing."""

    def __init__(self, console: Console | None) -> None:
        super().__init__(None if console is None else Progress(
            TextColumn("{task.description}"),
            console=console, auto_refresh=False, transient=True,
        ))

    def __call__(self, progress: ReplayProgress) -> None:
        if self._progress is None:
            return
        # Short enough for 80 columns; the time is the data's, in UTC.
        equity = n.MISSING if progress.equity_krw is None else f"{n.krw(progress.equity_krw)} KRW"
        description = (f"[bold]{progress.at:%Y-%m-%d %H:%M}[/]  {progress.candles:,} candles  "
                       f"{progress.decisions:,} decisions  {progress.orders:,} orders  "
                       f"{equity}")
        if self._task is None:
            self._task = self._progress.add_task(description, total=None)
        self._progress.update(self._task, description=description)
        self._progress.refresh()
