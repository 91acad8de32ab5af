"""Batched inserts without SQLAlchemy's per-row bookkeeping.

A backtest writes hundreds of thousands of small rows; SQLAlchemy spends about 30 us
on each building parameter dicts. Here each table's INSERT is rendered once per dialect
as driver SQL, records arrive as tuples of their fields (``SqlStore``'s
``record_values``, one ``attrgetter`` call each), and only the columns that need it go
through a bind processor that gives what SQLAlchemy's would
(``types.bulk_bind_processor``), so what is stored is identical; only the bookkeeping
around it is gone. Strings are checked against their column's length here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError

from . import schema as s
from .types import bulk_bind_processor

Processor = Callable[[Any], Any]

_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """One table's INSERT as driver SQL, and how a record's fields become its parameters.

    ``processed`` are the columns (by position) whose value needs converting; ``limits``
    the bounded string columns (``schema.STRING_LIMITS``) by position.
    """

    table: str
    sql: str
    processed: tuple[tuple[int, Processor], ...]
    limits: tuple[tuple[int, str, int], ...]

    @classmethod
    def build(cls, table: Table, names: Sequence[str], dialect: Dialect) -> BulkInsert:
        placeholder = _PLACEHOLDER.get(dialect.paramstyle)
        if placeholder is None:
            raise ValueError(f"no bulk insert for paramstyle {dialect.paramstyle}")
        quote = dialect.identifier_preparer.quote
        columns = ", ".join(quote(name) for name in names)
        values = ", ".join(placeholder for _ in names)
        sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({values})"
        processed = []
        for index, name in enumerate(names):
            process = bulk_bind_processor(table.c[name].type, dialect)
            if process is not None:
                processed.append((index, process))
        bounded = s.STRING_LIMITS[table.name]
        limits = tuple((index, name, bounded[name]) for index, name in enumerate(names)
                       if name in bounded)
        return cls(table.name, sql, tuple(processed), limits)

    def rows(self, records: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
        """Driver parameters of records given as the tuples of their fields, in the
        order of the names the insert was built with.

        Raises:
            StoreError: a string longer than its column allows (named in the message).
        """
        processed, limits = self.processed, self.limits
        rows: list[Sequence[Any]] = []
        for row in records:
            for index, name, limit in limits:
                text = row[index]
                if isinstance(text, str) and len(text) > limit:
                    raise s.overlong(self.table, name, len(text), limit)
            if processed:
                converted = list(row)
                for index, process in processed:
                    converted[index] = process(converted[index])
                row = converted
            rows.append(row)
        return rows

    def execute(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (from ``rows``) on ``conn``'s driver connection, inside its
        transaction.

        Straight to the driver: SQLAlchemy's execution machinery costs ~100 us per
        statement, four times SQLite's own insert and commit. Driver errors are
        wrapped as SQLAlchemy's, so callers translate them as for any statement.
        """
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

