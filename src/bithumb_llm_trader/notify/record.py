"""The ``notifications`` table: what was sent, failed or held back, and to which service.

A row names the target by its scheme only (``tgram``, ``json``), never by its URL, and
its title and error text are redacted before they get here. The table has its own
``MetaData`` and is created on first use (like ``lease.leases``), only in a database that
already holds our schema, so it never makes a fresh database look foreign.

Recording must never break trading: every database error is logged and swallowed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from ..store.connect import SQLITE_IMMEDIATE, lost_creation_race, one_line
from ..store.types import UTCDateTime
from .events import Event, EventKind

log = logging.getLogger(__name__)

SENT, FAILED, SUPPRESSED = "sent", "failed", "suppressed"
_TITLE_MAX = 255
_ERROR_MAX = 2000

notify_metadata = MetaData()
notifications = Table(
    "notifications", notify_metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("strategy", String(64), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("event_kind", String(32), nullable=False),
    Column("level", String(16), nullable=False),
    Column("target", String(32), nullable=True),  # the scheme only; NULL when suppressed
    Column("status", String(16), nullable=False),
    Column("title", String(_TITLE_MAX), nullable=True),
    Column("error", Text(), nullable=True),
    Index("ix_notifications_strategy_kind_at", "strategy", "event_kind", "created_at"),
    mysql_engine="InnoDB", mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
    mariadb_engine="InnoDB", mariadb_charset="utf8mb4", mariadb_collate="utf8mb4_bin",
)
"""One row per message and target (sent or failed), or per event held back."""


@dataclass(frozen=True)
class Outcome:
    """What became of one event at one target (``target`` None: held back)."""

    event: Event
    target: str | None
    status: str
    error: str | None = None


class Recorder:
    """Writes ``Outcome`` rows through an SQLAlchemy engine (``SqlStore.engine``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._ready: bool | None = None  # None: not checked; False: no schema, skip
        self._mutex = threading.Lock()

    def write(self, outcomes: list[Outcome]) -> None:
        """Insert the rows; a database error is logged, never raised."""
        if not outcomes:
            return
        try:
            with self._mutex:
                if not self._ensure_table():
                    return
                with self._engine.begin() as conn:
                    conn.execute(insert(notifications), [_row(o) for o in outcomes])
        except SQLAlchemyError as exc:
            log.warning("could not record %d notification(s): %s", len(outcomes),
                        one_line(exc, self._engine.url))

    def _ensure_table(self) -> bool:
        if self._ready is not None:
            return self._ready
        names = set(inspect(self._engine).get_table_names())
        if "schema_version" not in names:
            log.warning("notifications are not recorded: the database has no bithumb-trader"
                        " schema (open it with open_store first)")
            self._ready = False
            return False
        if notifications.name not in names:
            engine = self._engine
            if engine.dialect.name == "sqlite":
                engine = engine.execution_options(**{SQLITE_IMMEDIATE: True})
            try:
                with engine.begin() as conn:
                    notify_metadata.create_all(conn, checkfirst=True)
            except SQLAlchemyError as exc:
                if not lost_creation_race(exc):  # another process created it first
                    raise
        self._ready = True
        return True


def _row(outcome: Outcome) -> dict[str, object]:
    event = outcome.event
    error = outcome.error[:_ERROR_MAX] if outcome.error else None
    return {"created_at": event.at, "strategy": event.strategy[:64], "mode": event.mode[:16],
            "event_kind": event.kind.value, "level": event.level.value,
            "target": outcome.target[:32] if outcome.target else None,
            "status": outcome.status, "title": event.title[:_TITLE_MAX], "error": error}


def last_sent_at(engine: Engine, kind: EventKind, strategy: str,
                 mode: str) -> datetime | None:
    """When ``kind`` was last sent for ``strategy`` in ``mode`` (to seed
    ``DailySummaryClock`` across restarts: a dry run's summary must not stand for the live
    one); None when never, or when the table does not exist yet.
    """
    try:
        if notifications.name not in inspect(engine).get_table_names():
            return None
        query = select(func.max(notifications.c.created_at)).where(
            notifications.c.strategy == strategy, notifications.c.mode == mode,
            notifications.c.event_kind == kind.value, notifications.c.status == SENT)
        with engine.connect() as conn:
            value = conn.execute(query).scalar()
    except SQLAlchemyError as exc:
        log.warning("could not read the last %s notification: %s", kind.value,
                    one_line(exc, engine.url))
        return None
    return value if isinstance(value, datetime) else None
