"""``bithumb-trader twap``: not built yet in this version."""

from __future__ import annotations

import typer

from .common import fail


def command(
    ctx: typer.Context,
) -> None:
    """Not built yet."""
    fail("'twap' is not built yet in this version", 2)
