"""``bithumb-trader serve``: the REST API and dashboard over the trader's database.

Thin on purpose: parse the options, resolve the settings, let ``serve`` open the
database read-only and run uvicorn. FastAPI and uvicorn (the ``serve`` extra) are
imported only when this command runs, so every other command starts without them; a
missing extra, a database that cannot be read, or a public host without a token ends
with one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import os
from typing import Annotated, Any

import typer

from ..errors import MissingDependency
from .common import fail, handled_errors

SERVE_INSTALL = "pip install 'bithumb-llm-trader[serve]'"

ConfigOpt = Annotated[str | None, typer.Option(
    "--config", metavar="CONFIG",
    help="strategy file: its database.url and risk.kill_switch_file")]
DbOpt = Annotated[str | None, typer.Option(
    "--db", metavar="URL", help="database URL (default: the config's, else "
                                "sqlite:///bithumb_trader.db)")]
HostOpt = Annotated[str, typer.Option(
    "--host", metavar="HOST", help="address to listen on; anything but loopback needs "
                                   "BITHUMB_TRADER_API_TOKEN")]
PortOpt = Annotated[int, typer.Option("--port", metavar="PORT", help="port to listen on")]
KillOpt = Annotated[str | None, typer.Option(
    "--kill-switch-file", metavar="FILE",
    help="the kill-switch file the dashboard's button creates (default: the config's)")]


def command(
    ctx: typer.Context,
    config: ConfigOpt = None,
    db: DbOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8080,
    kill_switch_file: KillOpt = None,
) -> None:
    """Serve a read-only REST API (/api/v1, docs at /docs) and a dashboard (/) over the
    database; the kill switch is the one control, behind BITHUMB_TRADER_API_TOKEN."""
    if ctx.args:
        fail(f"unexpected arguments: {' '.join(ctx.args)} (see bithumb-trader serve --help)")
    with handled_errors():
        serve = _serve_package()
        settings = serve.serve_settings(config=config, db=db, host=host, port=port,
                                        kill_switch_file=kill_switch_file,
                                        environ=os.environ)
        typer.echo(f"serving http://{_shown(host)}:{port}/ (API /api/v1, docs /docs); "
                   "Ctrl-C stops", err=True)
        serve.run_server(settings)


def _serve_package() -> Any:
    """``bithumb_llm_trader.serve``, or a one-line error naming the extra to install."""
    try:
        importlib.import_module("fastapi")
        importlib.import_module("uvicorn")
    except ImportError as exc:
        raise MissingDependency(
            f"serve needs FastAPI and uvicorn, which come with the 'serve' extra: "
            f"{SERVE_INSTALL}") from exc
    return importlib.import_module("bithumb_llm_trader.serve")


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
