"""``bithumb-trader notify-test CONFIG``: one test message to every configured URL.

Registered in ``main.py`` as ``app.command("notify-test")(notify_cmd.command)``.

Prints one line per URL, by its label only (``scheme://host``, never a token)::

    1. tgram://***: sent
    2. json://127.0.0.1:8080: error: HTTP 500 Internal Server Error

Exit 0 when every URL accepted the message, 1 when any did not, 2 for a config error
(unreadable file, no URLs, notifications disabled).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from .common import EXIT_FAILED, EXIT_OK, fail, load, stderr


def command(
    config: Annotated[str, typer.Argument(help="strategy file (.json, .yaml, .yml or .toml)")],
) -> None:
    """Send one test message to every notifications URL and print sent or the error."""
    strategy = load(config)
    settings = strategy.notifications
    if not settings.urls:
        fail(f"{config}: notifications.urls is empty: nothing to test")
    if not settings.enabled:
        fail(f"{config}: notifications.enabled is false")
    from ..bootstrap.notifying import send_test  # here: --help of the CLI needs no notifier

    deliveries = send_test(strategy)
    out = stderr()
    for number, delivery in enumerate(deliveries, 1):
        result = "sent" if delivery.ok else f"error: {delivery.error}"
        typer.echo(f"{number}. {delivery.target}: {result}")
    failed = [d for d in deliveries if not d.ok]
    if failed:
        out.print(f"[red]{escape(str(len(failed)))} of {len(deliveries)} URL(s) failed[/]")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)
