"""Which database a run records into: the configured one or, for a dry run, its fallback.

``database.fallback_url`` (typically an SQLite file beside a MariaDB primary) keeps dry
runs recording when the primary's server cannot be reached. Only then: a primary that
answered and refused (login, database name, schema, another tool's tables) is a mistake
to fix, and is reported as it is. A live run never falls back: its risk state (the
account's lease, open orders, today's loss, position guards) lives in the primary, and
a fresh database would start it from nothing. ``--db URL`` means that database and no
other, so it has no fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..config import StrategyConfig
from ..domain import Mode
from ..errors import ConfigError, StoreError
from ..multi_agent import PortfolioPlan
from ..store import SqlStore, is_unreachable, open_store, redact_url

log = logging.getLogger(__name__)

StoreFactory = Callable[[str], SqlStore]


def strategy_urls(config: StrategyConfig, db_url: str | None) -> tuple[str, str | None]:
    """The database of one strategy and its fallback: ``--db`` alone, else the config's."""
    if db_url:
        return db_url, None
    return config.database.url, config.database.fallback_url or None


def portfolio_urls(plan: PortfolioPlan, db_url: str | None) -> tuple[str, str | None]:
    """The portfolio's database and fallback.

    The members' ``fallback_url`` serves their ``url`` only, so a database named by
    ``--db`` or by the portfolio file has none.

    Raises:
        ConfigError: the members name different fallbacks (a portfolio keeps one).
    """
    url = plan.database_url(db_url)
    if db_url or plan.config.database_url:
        return url, None
    fallbacks = sorted({member.config.database.fallback_url or "" for member in plan.members})
    if len(fallbacks) > 1:
        raise ConfigError(
            "the strategies name different database.fallback_url values; a portfolio "
            "keeps one: give every strategy the same one, or set database_url in the "
            "portfolio file"
        )
    return url, fallbacks[0] or None


def open_database(
    url: str,
    *,
    fallback_url: str | None,
    mode: Mode,
    store_factory: StoreFactory = open_store,
) -> tuple[SqlStore, list[str]]:
    """Open ``url``, or ``fallback_url`` when a dry run cannot reach ``url``'s server.

    Returns:
        The store, and the notes the run shows (one, naming both databases, after a
        fallback; none otherwise).

    Raises:
        StoreError: ``url`` failed for another reason than an unreachable server; or it
            is unreachable and there is no fallback, or the run is live; or the fallback
            failed too.
    """
    try:
        return store_factory(url), []
    except StoreError as exc:
        if not fallback_url or not is_unreachable(exc):
            raise
        primary_error = exc
    fallback = redact_url(fallback_url)
    if mode is Mode.LIVE:
        raise StoreError(
            f"{primary_error}; a live run does not fall back to {fallback}: its risk state "
            "(lease, open orders, daily loss, position guards) lives in the primary database"
        ) from primary_error
    try:
        store = store_factory(fallback_url)
    except StoreError as exc:
        raise StoreError(f"{primary_error}; the fallback failed too: {exc}") from exc
    log.warning("%s; this dry run records into the fallback %s", primary_error, fallback)
    return store, [f"database: {redact_url(url)} unreachable; recording into {fallback}"]
