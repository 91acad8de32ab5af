"""The command line: thin commands that parse, call the library and map errors to exit codes.

``python -m bithumb_llm_trader.main CONFIG [--verbose]`` (the older form) runs one cycle
like ``bithumb-trader run CONFIG``.

This module imports only typer and the commands' signatures (``cli/commands.py``): a
command's implementation, and with it the store, the engine or the backtest, is imported
when that command runs, so ``--help`` and every command start without the others' weight.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .cli import commands, notify_cmd, serve_cmd
from .cli.common import EXIT_OK, fail, load
from .cli.help import PlainCommand, PlainGroup

app = typer.Typer(
    cls=PlainGroup,
    name="bithumb-trader",
    help="Trade on Bithumb with a language model in the loop and a risk manager it cannot"
    " talk past. Dry-run unless the config says dry_run: false AND --live is given.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

COMMANDS = ("run", "twap", "portfolio", "report", "backtest", "download-candles",
            "optimize", "validate", "notify-test", "serve")
CONFIG_SUFFIXES = (".json", ".yaml", ".yml", ".toml")

EXAMPLES = {
    "run": ("bithumb-trader run examples/config.sample.yaml",
            "bithumb-trader run strategy.yaml --every 15m --max-cycles 96",
            "bithumb-trader run strategy.yaml --live  (needs dry_run: false and API keys)"),
    "validate": ("bithumb-trader validate strategy.yaml",),
    "twap": ("bithumb-trader twap strategy.yaml --side buy --notional 1000000 --duration 30m",
             "bithumb-trader twap strategy.yaml --side sell --volume 0.01 --slices 6 --json",
             "bithumb-trader twap --resume RUN_ID --db sqlite:///bithumb_trader.db"),
    "portfolio": ("bithumb-trader portfolio strategies/",
                  "bithumb-trader portfolio portfolio.yaml --every 15m"),
    "report": ("bithumb-trader report --config strategy.yaml --since 7d",
               "bithumb-trader report --db sqlite:///bithumb_trader.db --format json"),
    "backtest": ("bithumb-trader backtest strategy.yaml --data candles.csv",
                 "bithumb-trader backtest strategy.yaml --data candles.csv --from 2025-09-01"
                 " --decider rules"),
    "download-candles": (
        "bithumb-trader download-candles KRW-BTC -o candles.csv --interval 15m --since 30d",),
    "optimize": ("bithumb-trader optimize strategy.yaml --data candles.csv --trials 50 --jobs 2",
                 "bithumb-trader optimize strategy.yaml --data candles.csv --storage"
                 " postgresql+psycopg://user@db/optuna --study btc-rules  (on every machine)"),
    "notify-test": ("bithumb-trader notify-test strategy.yaml",),
    "serve": ("bithumb-trader serve --config strategy.yaml  (then open http://127.0.0.1:8080/)",
              "BITHUMB_TRADER_API_TOKEN=$(openssl rand -hex 24) bithumb-trader serve"
              " --db sqlite:///bithumb_trader.db --host 0.0.0.0 --port 8080"),
}
"""Shown under each command's ``--help``: what a first run looks like."""


def examples(command: str) -> str:
    # "\b" keeps click from re-wrapping the paragraph: one example a line, never split.
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in EXAMPLES[command])


ConfigArg = Annotated[str, typer.Argument(
    help="strategy file (.json, .yaml, .yml or .toml)", metavar="CONFIG")]
LiveOpt = Annotated[bool, typer.Option("--live", help="send real orders (needs dry_run: false)")]
DbOpt = Annotated[str | None, typer.Option(
    "--db", help="database URL (default from config)", metavar="URL")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print only JSON, no summary")]
VerboseOpt = Annotated[int, typer.Option("-v", "--verbose", count=True, help="-v info, -vv debug",
                                               show_default=False)]
NoLogFileOpt = Annotated[bool, typer.Option("--no-log-file", help="do not write logs/")]
WaitLeaseOpt = Annotated[str | None, typer.Option(
    "--wait-lease", help="wait this long (e.g. 30s) for another process to free the account",
    metavar="DURATION")]


def _injected(ctx: typer.Context) -> dict[str, Any]:
    """Test seams passed through ``CliRunner.invoke(..., obj=...)``: clock, transport."""
    return dict(ctx.obj or {})


@app.command(cls=PlainCommand, epilog=examples("run"))
def run(
    ctx: typer.Context,
    config: ConfigArg,
    live: LiveOpt = False,
    db: DbOpt = None,
    json_only: JsonOpt = False,
    verbose: VerboseOpt = 0,
    openai_api_key: Annotated[
        str | None, typer.Option("--openai-api-key", help="overrides OPENAI_API_KEY",
                                 metavar="KEY")
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", help="repeat, e.g. 15m; Ctrl-C stops cleanly",
                                 metavar="DURATION")
    ] = None,
    max_cycles: Annotated[
        int | None, typer.Option("--max-cycles", help="stop after N cycles", metavar="N")
    ] = None,
    reset_paper: Annotated[
        bool, typer.Option("--reset-paper", help="restart the paper wallet from the config")
    ] = False,
    no_log_file: NoLogFileOpt = False,
    wait_lease: WaitLeaseOpt = None,
) -> None:
    """Run one trading cycle (or one every --every) and print the result as JSON."""
    from .cli.run_cmd import run_command

    code = run_command(
        config, live=live, db=db, json_only=json_only, verbosity=verbose,
        openai_api_key=openai_api_key, every=every, max_cycles=max_cycles,
        reset_paper=reset_paper, no_log_file=no_log_file, wait_lease=wait_lease,
        injected=_injected(ctx),
    )
    raise typer.Exit(code)


@app.command(cls=PlainCommand, epilog=examples("validate"))
def validate(config: ConfigArg) -> None:
    """Check a strategy file and print what it configures; exit 2 when it is invalid."""
    from .config.notifications import validate_targets

    loaded = load(config)
    bad = [check for check in validate_targets(loaded.notifications) if not check.ok]
    if bad:
        fail(f"{config}: notifications.urls[{bad[0].number - 1}] ({bad[0].label}): "
             f"{bad[0].error}")
    mode = "dry run" if loaded.dry_run else "live allowed (still needs --live)"
    typer.echo(
        f"ok: {config}: strategy {loaded.name!r} on {loaded.market}, decider "
        f"{loaded.strategy.decider}, {mode}, database {loaded.database.url.split('://')[0]}"
    )


# These commands take stray arguments themselves and refuse them in one line, instead of
# click's boxed usage error.
_OWN_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}

# Each of these commands lives in its own module under cli/, its options in
# cli/commands.py (notify-test and serve import little and keep theirs); registered here
# so the command line is defined in one place.
app.command(name="twap", context_settings=_OWN_ARGS, cls=PlainCommand, epilog=examples("twap"),
            help="Execute a large order as time-sliced child orders (TWAP).")(commands.twap)
app.command(name="portfolio", context_settings=_OWN_ARGS, cls=PlainCommand,
            epilog=examples("portfolio"),
            help="Run several strategies as one portfolio.")(commands.portfolio)
app.command(name="report", context_settings=_OWN_ARGS, cls=PlainCommand,
            epilog=examples("report"),
            help="Report decisions, orders, fills, slippage, fees, PnL and model cost.")(
    commands.report)
app.command(name="backtest", context_settings=_OWN_ARGS, cls=PlainCommand,
            epilog=examples("backtest"),
            help="Replay historical candles through the same trading cycle.")(
    commands.backtest)
app.command(name="notify-test", cls=PlainCommand, epilog=examples("notify-test"),
            help="Send one test message to every notifications URL.")(notify_cmd.command)
app.command(name="download-candles", context_settings=_OWN_ARGS, cls=PlainCommand,
            epilog=examples("download-candles"),
            help="Download candles from Bithumb's public API into a CSV for backtests.")(
    commands.download_candles)
app.command(name="optimize", context_settings=_OWN_ARGS, cls=PlainCommand,
            epilog=examples("optimize"),
            help="Search a strategy's parameters on past candles (Optuna, walk-forward).")(
    commands.optimize)
app.command(name="serve", context_settings=_OWN_ARGS, cls=PlainCommand, epilog=examples("serve"),
            help="Serve a REST API and a dashboard over the database (read-only).")(
    serve_cmd.command)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="print the version")] = False,
) -> None:
    if version:
        typer.echo(f"bithumb-trader {__version__}")
        raise typer.Exit(EXIT_OK)


def legacy_argv(argv: list[str]) -> list[str]:
    """Accept the older ``main CONFIG [--verbose]`` form by inserting ``run``.

    Only a strategy file counts as CONFIG (by its suffix, or because it exists): any
    other word is a mistyped command, and the root says so and lists the commands.
    """
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        first = Path(argv[0])
        if first.suffix.lower() in CONFIG_SUFFIXES or first.is_file():
            return ["run", *argv]
    return argv


def entrypoint() -> None:
    app(args=legacy_argv(sys.argv[1:]), prog_name="bithumb-trader")


if __name__ == "__main__":
    entrypoint()
