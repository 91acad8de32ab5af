"""``bithumb-trader twap``: one large order as time-sliced child orders (TWAP).

A progress bar and then a summary table go to stderr; the JSON result goes to stdout
with ``--json`` or when stdout is not a terminal (a pipe or a file), so a terminal is
not flooded with it. Ctrl-C ends the run after the current slice and leaves it
resumable: ``twap --resume RUN_ID [CONFIG]`` continues it without sending any slice
twice. Defaults come from the strategy file's ``twap`` section; real orders need
``dry_run: false`` in the file AND ``--live``, as for ``run``.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from ..bootstrap import Runtime, build_runtime, redacted, secrets_of, stored_twap_run
from ..config import DatabaseConfig, StrategyConfig
from ..domain import Side, parse_duration, to_decimal
from ..engine.results import jsonable
from ..errors import InvalidOrder, OrderRefused
from ..twap import TwapParams, TwapProgress, TwapReport
from . import numbers as n
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    duration_option,
    fail,
    handled_errors,
    install_stop_handlers,
    load,
    print_json,
    setup_logging,
    stderr,
    stdout_is_terminal,
)

log = logging.getLogger(__name__)

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_EXIT_BY_STATUS = {"done": EXIT_OK, "stopped": EXIT_INTERRUPTED, "failed": EXIT_FAILED,
                   "incomplete": EXIT_FAILED, "refused": EXIT_FAILED}


@dataclass(frozen=True, slots=True)
class _Job:
    """What to do: a new TWAP (``params``) or a stored one to continue (``resume``).

    ``resume_args`` are what ``twap --resume ID`` needs to find this run again: the
    ``--db`` and strategy file this invocation used.
    """

    params: TwapParams | None = None
    resume: str | None = None
    resume_args: str = ""


def command(
    ctx: typer.Context, *, config: str | None, side: str | None, notional: str | None,
    volume: str | None, duration: str | None, slices: int | None, interval: str | None,
    limit_price: str | None, max_slippage_bps: str | None, jitter: str | None,
    seed: int | None, final_sweep: bool, resume: str | None, live: bool, db: str | None,
    json_only: bool, verbose: int, no_log_file: bool, wait_lease: str | None,
) -> None:
    """Execute a large order as time-sliced child orders (TWAP); the options are
    ``cli.commands.twap``'s."""
    if ctx.args:
        fail(f"unexpected arguments: {' '.join(ctx.args)}")
    trade = {"--side": side, "--notional": notional, "--volume": volume,
             "--duration": duration, "--slices": slices, "--interval": interval,
             "--limit-price": limit_price, "--max-slippage-bps": max_slippage_bps,
             "--jitter": jitter, "--seed": seed, "--final-sweep": final_sweep or None}
    if resume is not None:
        given = [name for name, value in trade.items() if value is not None]
        if given:
            fail(f"--resume continues a run as it was planned; drop {', '.join(given)}")
        strategy = _resume_config(config, db, resume)
        job = _Job(resume=resume, resume_args=_resume_args(config, db, live))
    else:
        if config is None:
            fail("give a strategy file (or --resume RUN_ID)")
        strategy = load(config)
        job = _Job(params=_new_params(strategy, trade),
                   resume_args=_resume_args(config, db, live))
    with handled_errors():
        setup_logging(strategy, verbose, no_log_file, secrets_of(strategy))
        lease_wait = duration_option(wait_lease, "--wait-lease")
        code = asyncio.run(_execute(strategy, job, live=live, db=db, json_only=json_only,
                                    wait_lease=lease_wait,
                                    injected=dict(ctx.obj or {})))
    raise typer.Exit(code)


def _new_params(config: StrategyConfig, trade: dict[str, Any]) -> TwapParams:
    """Parameters from the command line over the defaults of ``config``; exit 2 if bad."""
    side = _SIDES.get(str(trade["--side"]).lower()) if trade["--side"] else None
    if side is None:
        fail("--side must be buy or sell")
    if (trade["--notional"] is None) == (trade["--volume"] is None):
        fail("give exactly one of --notional KRW or --volume QTY")
    if trade["--slices"] is not None and trade["--interval"] is not None:
        fail("give --slices or --interval, not both")
    overrides: dict[str, Any] = {}
    if trade["--duration"] is not None:
        overrides["duration"] = _duration(trade["--duration"], "--duration")
    if trade["--slices"] is not None:
        overrides.update(slices=trade["--slices"], interval=None)
    if trade["--interval"] is not None:
        overrides.update(interval=_duration(trade["--interval"], "--interval"), slices=None)
    for option, field in (("--limit-price", "limit_price"), ("--jitter", "jitter"),
                          ("--max-slippage-bps", "max_slippage_bps")):
        if trade[option] is not None:
            overrides[field] = _decimal(trade[option], option)
    if trade["--seed"] is not None:
        overrides["seed"] = trade["--seed"]
    if trade["--final-sweep"]:
        overrides["final_sweep"] = True
    notional, volume = (_decimal(trade[o], o) if trade[o] is not None else None
                        for o in ("--notional", "--volume"))
    try:
        return TwapParams.from_config(config, side=side, notional=notional, volume=volume,
                                      **overrides)
    except InvalidOrder as exc:
        fail(str(exc))


def _decimal(text: str, option: str) -> Decimal:
    try:
        return to_decimal(text, option)
    except ValueError as exc:
        fail(str(exc))


def _duration(text: str, option: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        fail(f"{option}: {exc}")
    if value <= timedelta(0):
        fail(f"{option} must be longer than zero")
    return value


def _resume_config(config_path: str | None, db: str | None, twap_run_id: str) -> StrategyConfig:
    """The strategy file if given; else a default config named after the run's strategy.

    The run is looked up first either way, so a mistyped id or ``--db`` ends here with
    one line, before anything opens (and would create) a database.
    """
    loaded = None if config_path is None else load(config_path)
    url = db or (loaded.database.url if loaded else DatabaseConfig().url)
    with handled_errors():
        run = stored_twap_run(url, twap_run_id)
    if run is None:
        fail(f"no TWAP run {twap_run_id!r} in {redacted(url)}")
    if loaded is not None:
        return loaded
    if not run.dry_run:
        fail(f"TWAP run {twap_run_id} was live: resume it with its strategy file and --live")
    return StrategyConfig(name=run.strategy, database=DatabaseConfig(url=url))


async def _execute(
    config: StrategyConfig, job: _Job, *, live: bool, db: str | None, json_only: bool,
    wait_lease: timedelta | None, injected: dict[str, Any],
) -> int:
    # A TWAP decides nothing, so a live TWAP never needs a language-model key.
    runtime = build_runtime(config, live=live, db_url=db, clock=injected.get("clock"),
                            wait_lease=wait_lease,
                            transport=injected.get("transport"), decides=False)
    try:
        for note in runtime.notes:
            log.info(note)
            if not json_only:
                stderr().print(f"[yellow]{note}[/]")
        report = await _twap(runtime, job, json_only=json_only)
    finally:
        await runtime.aclose()
    if json_only or not stdout_is_terminal():
        print_json({**jsonable(report), "mode": runtime.mode.value,
                    "notes": [*runtime.notes, *report.notes]}, compact=False)
    if not json_only:
        console = stderr()
        console.print(summary_table(report, runtime.mode.value))
        if report.status != "done":
            why = f": {report.error}" if report.error else ""
            hint = _resume_hint(report.twap_run_id, job.resume_args)
            console.print(f"TWAP {report.status}{why}{hint}", soft_wrap=True)
    return _EXIT_BY_STATUS.get(report.status, EXIT_FAILED)


async def _twap(runtime: Runtime, job: _Job, *, json_only: bool) -> TwapReport:
    """Run (or resume) the TWAP with Ctrl-C handlers and the progress bar in place."""
    executor = runtime.twap()
    stop = asyncio.Event()
    remove_handlers = install_stop_handlers(stop, "slice")
    view = _ProgressView(None if json_only else stderr())
    try:
        with view:
            if job.resume is not None:
                return await executor.resume(job.resume, progress=view, stop=stop)
            assert job.params is not None
            return await executor.run(job.params, progress=view, stop=stop)
    except OrderRefused as exc:
        fail(f"TWAP refused by the pre-trade gate, nothing sent: {exc}")
    except InvalidOrder as exc:
        fail(str(exc))
    except asyncio.CancelledError:  # a second Ctrl-C: stop at once, resumable
        stderr().print(f"interrupted{_resume_hint(view.twap_run_id, job.resume_args)}",
                       soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        remove_handlers()


def _resume_args(config: str | None, db: str | None, live: bool) -> str:
    """The arguments that find this run again: its ``--db`` (password hidden), its file."""
    parts = [*(["--db", redacted(db)] if db else []), *([config] if config else []),
             *(["--live"] if live else [])]
    return " ".join(shlex.quote(part) for part in parts)


def _resume_hint(twap_run_id: str | None, resume_args: str) -> str:
    if twap_run_id is None:
        return ""
    command = f"bithumb-trader twap --resume {twap_run_id} {resume_args}".rstrip()
    return f"; continue with: {command}"


def summary_table(report: TwapReport, mode: str) -> Table:
    """The outcome at a glance on stderr; the JSON (``--json``, or piped) has every slice."""
    coin = report.market.rpartition("-")[2]
    in_krw = report.unit == "notional"

    def amount(value: Decimal) -> str:
        return f"{n.krw(value)} KRW" if in_krw else f"{n.volume(value)} {coin}"

    side = {Side.BUY.value: "buy", Side.SELL.value: "sell"}.get(report.side, report.side)
    table = Table(title=f"TWAP {report.market} {side} · {mode} · {report.status}",
                  show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    filled = report.filled_funds if in_krw else report.filled_volume
    rows = [
        ("twap run", report.twap_run_id),
        ("filled", f"{amount(filled)} of {amount(report.total)}"),
        ("remaining", amount(report.remaining)),
        ("volume", f"{n.volume(report.filled_volume)} {coin}"),
        ("funds KRW", n.krw(report.filled_funds)),
        ("avg price", n.price(report.avg_price)),
        ("arrival price", f"{n.price(report.arrival_price)}"
                          f"  (guard {n.price(report.guard_price)})"),
        ("slippage", n.bps(report.slippage_bps)),
        ("fees KRW", n.krw(report.fees, 2)),
        ("slices", f"{report.slices_sent} sent, {report.slices_skipped} skipped,"
                   f" {report.slices_failed} failed of {report.slices_planned}"),
    ]
    if report.error:
        rows.append(("error", report.error))
    for label, value in rows:
        table.add_row(label, value)
    return table


class _ProgressView:
    """A rich progress bar: filled / total, average price, slippage, time left."""

    def __init__(self, console: Console | None) -> None:
        self._progress = None if console is None else Progress(
            TextColumn("[bold]TWAP[/] {task.description}"), BarColumn(bar_width=16),
            TextColumn("{task.fields[filled]} / {task.fields[parent]} {task.fields[unit]}"),
            TextColumn("avg {task.fields[avg]}"), TextColumn("slip {task.fields[slip]} bps"),
            TextColumn("{task.fields[left]} left"),
            console=console, auto_refresh=False,
        )
        self._task: TaskID | None = None
        self.twap_run_id: str | None = None

    def __enter__(self) -> _ProgressView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.refresh()
            self._progress.stop()

    def __call__(self, progress: TwapProgress) -> None:
        self.twap_run_id = progress.twap_run_id
        if self._progress is None:
            return
        krw = progress.unit == "notional"
        amount = n.krw if krw else n.volume
        fields: dict[str, Any] = {
            "filled": amount(progress.filled), "parent": amount(progress.total),
            "unit": "KRW" if krw else "coins",
            "avg": n.price(progress.avg_price), "slip": n.fixed(progress.slippage_bps, 1),
            "left": timedelta(seconds=round(progress.seconds_left)),
        }
        # Floats only size the bar on screen; every number shown is the exact Decimal.
        done, total = float(progress.filled), float(progress.total)
        description = progress.last_event or ""
        if self._task is None:
            self._task = self._progress.add_task(description, total=total, **fields)
        self._progress.update(self._task, description=description, completed=done, **fields)
        self._progress.refresh()
