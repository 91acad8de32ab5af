"""Batched inserts without SQLAlchemy's per-row bookkeeping.

A backtest writes tens of thousands of small rows; SQLAlchemy spends about 30 us on
each building parameter dicts. Here each table's INSERT is rendered once per dialect as
driver SQL, and each value goes through the same bind processor SQLAlchemy would use
(``ExactDecimal``, ``UTCDateTime``, ``JSONText`` and the dialect's own), so what is
stored is identical; only the bookkeeping around it is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError

from . import schema as s

Processor = Callable[[Any], Any] | None

_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """One table's INSERT as driver SQL, with a bind processor per column."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Processor, ...]

    @classmethod
    def build(cls, table: Table, names: Sequence[str], dialect: Dialect) -> BulkInsert:
        placeholder = _PLACEHOLDER.get(dialect.paramstyle)
        if placeholder is None:
            raise ValueError(f"no bulk insert for paramstyle {dialect.paramstyle}")
        quote = dialect.identifier_preparer.quote
        columns = ", ".join(quote(name) for name in names)
        values = ", ".join(placeholder for _ in names)
        sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({values})"
        processors = tuple(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        return cls(sql, tuple(names), processors)

    def rows(self, records: Sequence[Any]) -> list[tuple[Any, ...]]:
        pairs = tuple(zip(self.names, self.processors, strict=True))
        return [
            tuple(
                getattr(record, name) if process is None else process(getattr(record, name))
                for name, process in pairs
            )
            for record in records
        ]

    def execute(self, conn: Connection, records: Sequence[Any]) -> None:
        """Insert ``records`` on ``conn``'s driver connection, inside its transaction.

        Straight to the driver: SQLAlchemy's execution machinery costs ~100 us per
        statement, four times SQLite's own insert and commit. Driver errors are
        wrapped as SQLAlchemy's, so callers translate them as for any statement.
        """
        rows = self.rows(records)
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self.sql, rows)
        except dbapi.Error as exc:
            raise DBAPIError.instance(self.sql, rows, exc, dbapi.Error,
                                      dialect=conn.dialect) from exc
        finally:
            cursor.close()


class BulkInserts:
    """The ``BulkInsert`` of every table, built on first use for one engine's dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._built: dict[type[Any], BulkInsert] = {}

    def for_record(self, record_type: type[Any]) -> BulkInsert:
        bulk = self._built.get(record_type)
        if bulk is None:
            table = s.metadata.tables[record_type.TABLE]
            bulk = BulkInsert.build(table, s.RECORD_FIELDS[record_type], self._dialect)
            self._built[record_type] = bulk
        return bulk
