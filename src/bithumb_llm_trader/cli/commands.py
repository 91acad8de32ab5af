"""What typer sees of the heavier commands: their options, and nothing they import.

Building the command line reads every command's signature, so a signature that lives
next to its implementation drags the store, the engine, the backtest and the report into
``bithumb-trader --help``. Here each command is only its options: the module that does
the work (``cli/<name>_cmd.py``, and through it bootstrap, store, engine...) is imported
when the command runs, and receives the parsed options by name.
"""

from __future__ import annotations

import importlib
from enum import Enum
from typing import Annotated, Any

import typer

BITHUMB_API = "https://api.bithumb.com"
"""``api_client.endpoints.DEFAULT_BASE_URL``, spelled out so the signature imports no
HTTP client (a test keeps the two equal)."""


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class ModeChoice(str, Enum):
    DRY = "dry"
    LIVE = "live"
    BACKTEST = "backtest"


def _run(module: str, options: dict[str, Any]) -> None:
    """Import ``cli/<module>.py`` now and call its ``command`` with the parsed options."""
    importlib.import_module(f"{__package__}.{module}").command(**options)


def twap(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Argument(
        help="strategy file (optional with --resume)")] = None,
    side: Annotated[str | None, typer.Option("--side", help="buy or sell")] = None,
    notional: Annotated[str | None, typer.Option(
        "--notional", help="KRW to spend (buy) or receive (sell), whole won",
        metavar="KRW")] = None,
    volume: Annotated[str | None, typer.Option(
        "--volume", help="coins to buy or sell, up to 8 decimals", metavar="QTY")] = None,
    duration: Annotated[str | None, typer.Option(
        "--duration", help="e.g. 30m (default: twap.duration)", metavar="DURATION")] = None,
    slices: Annotated[int | None, typer.Option(
        "--slices", help="number of slices", metavar="N")] = None,
    interval: Annotated[str | None, typer.Option(
        "--interval", help="time between slices, e.g. 1m (instead of --slices)",
        metavar="DURATION")] = None,
    limit_price: Annotated[str | None, typer.Option(
        "--limit-price", help="never buy above / sell below this price", metavar="PRICE")] = None,
    max_slippage_bps: Annotated[str | None, typer.Option(
        "--max-slippage-bps", help="guard against the arrival price, in bps",
        metavar="BPS")] = None,
    jitter: Annotated[str | None, typer.Option(
        "--jitter", help="0 to 0.5: random move of slice sizes and times")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="seed of the jitter")] = None,
    final_sweep: Annotated[bool, typer.Option(
        "--final-sweep", help="send what is left at the end as one more guarded order")] = False,
    resume: Annotated[str | None, typer.Option(
        "--resume", help="continue a stopped or crashed TWAP run by its id",
        metavar="RUN_ID")] = None,
    live: Annotated[bool, typer.Option(
        "--live", help="send real orders (needs dry_run: false)")] = False,
    db: Annotated[str | None, typer.Option(
        "--db", help="database URL (default from config)", metavar="URL")] = None,
    json_only: Annotated[bool, typer.Option("--json", help="print only JSON")] = False,
    verbose: Annotated[int, typer.Option(
        "-v", "--verbose", count=True, help="-v info, -vv debug", show_default=False)] = 0,
    no_log_file: Annotated[bool, typer.Option("--no-log-file", help="do not write logs/")] = False,
    wait_lease: Annotated[str | None, typer.Option(
        "--wait-lease", help="wait this long (e.g. 30s) for another process to free the account",
        metavar="DURATION")] = None,
) -> None:
    """Execute a large order as time-sliced child orders (TWAP)."""
    _run("twap_cmd", locals())


def portfolio(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(
        help="a directory of strategy files, or a portfolio file (.json, .yaml, .yml, .toml)")],
    live: Annotated[bool, typer.Option(
        "--live", help="send real orders (needs dry_run: false)")] = False,
    db: Annotated[str | None, typer.Option(
        "--db", help="database URL (default from the files)")] = None,
    json_only: Annotated[bool, typer.Option("--json", help="print only JSON, no summary")] = False,
    verbose: Annotated[int, typer.Option(
        "-v", "--verbose", count=True, help="-v info, -vv debug", show_default=False)] = 0,
    openai_api_key: Annotated[str | None, typer.Option(
        "--openai-api-key", help="overrides OPENAI_API_KEY")] = None,
    every: Annotated[str | None, typer.Option(
        "--every", help="repeat, e.g. 15m; Ctrl-C stops")] = None,
    max_cycles: Annotated[int | None, typer.Option(
        "--max-cycles", help="stop after N cycles")] = None,
    no_log_file: Annotated[bool, typer.Option("--no-log-file", help="do not write logs/")] = False,
    wait_lease: Annotated[str | None, typer.Option(
        "--wait-lease", help="wait this long (e.g. 30s) for another process to free the account"
    )] = None,
) -> None:
    """Run one cycle of every strategy of a portfolio (or one every --every) as JSON."""
    _run("portfolio_cmd", locals())


def report(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", metavar="URL",
        help="database URL (default: the config's, else sqlite:///bithumb_trader.db)")] = None,
    config: Annotated[str | None, typer.Option(
        "--config", metavar="CONFIG", help="strategy file whose database.url to read")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DURATION",
        help="only the last 7d, 12h, 30m ... (not with --from/--to)")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", metavar="WHEN",
        help="start, ISO date or date-time; without a zone it is KST")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar="WHEN",
        help="end, exclusive; a bare date includes that whole day (KST)")] = None,
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", metavar="NAME", help="only this strategy (repeat for several)")] = None,
    mode: Annotated[list[ModeChoice] | None, typer.Option(
        "--mode", case_sensitive=False,
        help="only this run mode: dry, live or backtest (repeat for several; default: every "
             "mode, each reported on its own)")] = None,
    backtest: Annotated[str | None, typer.Option(
        "--backtest", metavar="ID",
        help="backtest rows of this backtest only (its id; default: each strategy's latest)")
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", case_sensitive=False, help="table, json, or csv (one row per execution)")
    ] = OutputFormat.TABLE,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", metavar="FILE", help="write to FILE instead of stdout")] = None,
    chart: Annotated[str | None, typer.Option(
        "--chart", metavar="FILE",
        help="also draw FILE.png, .svg or .html (needs the 'plots' extra)")] = None,
    models: Annotated[bool, typer.Option(
        "--models", help="compare the models instead: primary and shadow models' valid-decision "
                         "rate, agreement with the primary, HTTP requests, tokens, cost, latency")
    ] = False,
) -> None:
    """Report runs, decisions, risk, allocations, executions, slippage, fees, PnL,
    equity and model cost from the database, without changing it; each run mode
    (dry, live, backtest) on its own."""
    _run("report_cmd", locals())


def backtest(
    ctx: typer.Context,
    config: Annotated[str, typer.Argument(help="strategy file (.json, .yaml, .yml or .toml)")],
    data: Annotated[str, typer.Option(
        "--data", help="candles: CSV (timestamp or date_time_kst layout) or Bithumb JSON")],
    start: Annotated[str | None, typer.Option(
        "--from", help="first candle traded, ISO time (UTC when no offset); earlier candles"
        " only warm the indicators up")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", help="stop before candles starting at this ISO time")] = None,
    decider: Annotated[str | None, typer.Option(
        "--decider", help="rules or llm (default: strategy.decider)")] = None,
    decide_every: Annotated[str | None, typer.Option(
        "--decide-every", help="decision cadence, e.g. 15m (default: the candle interval)")] = None,
    records: Annotated[str, typer.Option(
        "--records", help="rows kept per cycle: all, trades (cycles that sent an order)"
        " or none (orders and fills only)")] = "all",
    db: Annotated[str | None, typer.Option(
        "--db", help="database URL (default from config)")] = None,
    json_only: Annotated[bool, typer.Option("--json", help="print only JSON, no summary")] = False,
    export: Annotated[str | None, typer.Option(
        "--export", help="write the trade table to this CSV file")] = None,
    plot: Annotated[str | None, typer.Option(
        "--plot", help="write a chart (candles, trades, stops, targets, equity) to this"
        " self-contained HTML file")] = None,
    openai_api_key: Annotated[str | None, typer.Option(
        "--openai-api-key", help="overrides OPENAI_API_KEY")] = None,
    verbose: Annotated[int, typer.Option(
        "-v", "--verbose", count=True, help="-v info, -vv debug", show_default=False)] = 0,
) -> None:
    """Replay historical candles through the same trading cycle and print the figures."""
    _run("backtest_cmd", locals())


def download_candles(
    ctx: typer.Context,
    market: Annotated[str, typer.Argument(help="market id, e.g. KRW-BTC")],
    output: Annotated[str, typer.Option("--output", "-o", help="CSV file to write")],
    interval: Annotated[str, typer.Option(
        "--interval", help="1m, 3m, 5m, 10m, 15m, 30m, 1h, 4h, 1d or 1w")] = "1m",
    since: Annotated[str, typer.Option(
        "--since", help="how far back: a duration such as 30d, or an ISO date (UTC)")] = "30d",
    base_url: Annotated[str, typer.Option("--base-url", help="API root")] = BITHUMB_API,
) -> None:
    """Download candles into a CSV file that `backtest --data` reads."""
    _run("download_cmd", locals())


def optimize(
    ctx: typer.Context,
    config: Annotated[str, typer.Argument(help="strategy file (.json, .yaml, .yml or .toml)")],
    data: Annotated[str, typer.Option("--data", help="candle file to search on")],
    trials: Annotated[int | None, typer.Option(
        "--trials", help="trials per fold (default: optimize.trials)", min=1)] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", help="processes on this machine", min=1, max=64)] = 1,
    folds: Annotated[int | None, typer.Option(
        "--folds", help="walk-forward folds (default: optimize.folds)", min=1, max=50)] = None,
    storage: Annotated[str | None, typer.Option(
        "--storage", help="Optuna storage: an SQLAlchemy URL; the same URL and --study on"
        " several machines join one search")] = None,
    study: Annotated[str | None, typer.Option(
        "--study", help="study name (default: strategy name and data file)")] = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", help="strategy file to write (default: CONFIG.optimized.SUFFIX)")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="sampler seed")] = None,
    json_only: Annotated[bool, typer.Option("--json", help="print only JSON, no summary")] = False,
) -> None:
    """Search the strategy's optimize.space on past candles, walk-forward, after fees."""
    _run("optimize_cmd", locals())
