"""Opening a database to read a report from it, without ever changing it.

``store.open_store`` creates missing tables and upgrades old schemas: right for a
trader, wrong for a report pointed at a mistyped path or another tool's database. So
the report checks instead: an SQLite file must already exist and is opened read-only
(``mode=ro``: SQLite itself refuses any write), a server database is only inspected,
and anything that is not a bithumb-trader database of this schema version is refused
with a one-line ``StoreError`` naming the URL with its password hidden.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..errors import StoreError
from ..store import SCHEMA_VERSION, metadata, redact_url
from ..store.connect import build_engine, check_connection, one_line, sqlite_path, store_error
from ..store.migrate import current_version
from ..store.types import decimal_from_db, plain_decimal_text

_SHOWN_TABLES = 8
_MMAP_BYTES = 1 << 30
"""Read pages through a memory map (address space only): a report scans whole tables,
and reading them this way rather than page by page halves the time of each scan."""


@dataclass(frozen=True, slots=True)
class ReportSource:
    """A checked, read-only view of a bithumb-trader database."""

    engine: Engine
    label: str

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def snapshot(self) -> Connection:
        """A connection whose next transaction sees one state of the database throughout.

        SQLite's read transaction (``BEGIN``, emitted on every ``begin()``) already does;
        a server needs REPEATABLE READ (PostgreSQL's default, READ COMMITTED, would let
        a trader's commit land between two of the report's queries).
        """
        conn = self.engine.connect()
        if self.dialect_name != "sqlite":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return conn


def open_report_source(url: str) -> ReportSource:
    """Connect to ``url`` for reading and check it holds our schema; create nothing.

    Raises:
        StoreError: a bad URL or missing driver, no such SQLite file, an unreachable
            server, an empty database, another tool's database, or another version.
    """
    label = redact_url(url)
    engine = _engine(url, label)
    try:
        check_connection(engine, label)
        check_schema(engine, label)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise store_error(exc, label, "reading", engine.url) from exc
    except BaseException:
        engine.dispose()
        raise
    return ReportSource(engine=engine, label=label)


def _engine(url: str, label: str) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"bad database URL {label}: {one_line(exc)}") from exc
    if parsed.get_backend_name() != "sqlite":
        return build_engine(url)
    path = sqlite_path(parsed)
    if path is None:
        raise StoreError(f"{label} is an in-memory database: there is nothing to report")
    if not path.is_file():
        raise StoreError(
            f"no database at {label}: {path} does not exist; give --db the URL the "
            "trader writes to (database.url in the strategy file)"
        )
    return _read_only_sqlite(path)


def _read_only_sqlite(path: Path) -> Engine:
    """An engine whose connections SQLite itself keeps read-only, with the ``dsum``
    aggregate and one real transaction per ``begin()`` so all queries see one state."""
    uri = path.resolve().as_uri() + "?mode=ro"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        connection.isolation_level = None
        connection.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
        connection.create_aggregate("dsum", 1, cast(Any, ExactSum))
        return connection

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.connection.driver_connection.execute("BEGIN")

    return engine


class ExactSum:
    """``dsum`` for report connections: the store's exact aggregate, made cheaper.

    Same result as ``store.types.DecimalSum`` (an exact Decimal sum as plain text, NULLs
    skipped, Inexact trapped) but a canonical text value, which is all our money
    columns hold on SQLite, goes straight to ``Decimal``: a report sums hundreds of
    thousands of values, and the store's general conversion was most of its time.
    """

    def __init__(self) -> None:
        self._context = Context(prec=400, traps=[Inexact, Rounded, InvalidOperation, Overflow])
        self._total: Decimal | None = None

    def step(self, value: object) -> None:
        if value is None:
            return
        number = Decimal(value) if isinstance(value, str) else decimal_from_db(value)
        assert number is not None
        self._total = number if self._total is None else self._context.add(self._total, number)

    def finalize(self) -> str | None:
        return None if self._total is None else plain_decimal_text(self._total)


def check_schema(engine: Engine, label: str) -> None:
    """Refuse a database that is empty, foreign, incomplete or of another version."""
    names = set(inspect(engine).get_table_names())
    if not names:
        raise StoreError(
            f"{label} is empty: no bithumb-trader tables yet; run `bithumb-trader run` "
            "first, or point --db at the database the trader writes to"
        )
    if "schema_version" not in names:
        raise StoreError(
            f"{label} is not a bithumb-trader database (found tables: {_listing(names)})"
        )
    missing = set(metadata.tables) - names
    if missing:
        raise StoreError(
            f"{label} lacks bithumb-trader tables ({_listing(missing)}); "
            "open it once with `bithumb-trader run` to finish its schema"
        )
    version = current_version(engine)
    if version != SCHEMA_VERSION:
        found = "no version" if version is None else f"schema v{version}"
        raise StoreError(
            f"{label} has {found}; this bithumb-trader reads v{SCHEMA_VERSION}"
        )


def _listing(names: set[str]) -> str:
    ordered = sorted(names)
    more = len(ordered) - _SHOWN_TABLES
    shown = ", ".join(ordered[:_SHOWN_TABLES])
    return f"{shown}, ... {more} more" if more > 0 else shown
