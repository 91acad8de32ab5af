"""Batched inserts without SQLAlchemy's per-row bookkeeping.

A backtest writes hundreds of thousands of small rows; SQLAlchemy spends about 30 us
on each building parameter dicts. Here each table's INSERT is rendered once per dialect
as driver SQL, a record's values are read in one ``attrgetter`` call, and only the
columns that need it go through a bind processor that gives what SQLAlchemy's would
(``types.bulk_bind_processor``), so what is stored is identical; only the bookkeeping
around it is gone. Strings are checked against their column's length here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Dialect, String, Table
from sqlalchemy.exc import DBAPIError

from ..errors import StoreError
from . import schema as s
from .types import bulk_bind_processor

Processor = Callable[[Any], Any]

_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """One table's INSERT as driver SQL, and how a record becomes its parameters.

    ``values`` reads every column of a record at once; ``processed`` are the columns
    (by position) whose value needs converting; ``limits`` the string columns with a
    length, which SQLite would not enforce and the servers would refuse.
    """

    table: str
    sql: str
    values: Callable[[Any], tuple[Any, ...]]
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
        processed, limits = [], []
        for index, name in enumerate(names):
            column_type = table.c[name].type
            process = bulk_bind_processor(column_type, dialect)
            if process is not None:
                processed.append((index, process))
            if isinstance(column_type, String) and column_type.length is not None:
                limits.append((index, name, column_type.length))
        return cls(table.name, sql, field_reader(names), tuple(processed), tuple(limits))

    def rows(self, records: Sequence[Any]) -> list[Sequence[Any]]:
        """Driver parameters of ``records``.

        Raises:
            StoreError: a string longer than its column allows (named in the message).
        """
        return self.rows_of_values(map(self.values, records))

    def rows_of_values(self, records: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
        """Driver parameters of records already read as ``values`` gives them (in the
        order of ``names``): how a writer in another process receives them."""
        processed, limits = self.processed, self.limits
        rows: list[Sequence[Any]] = []
        for row in records:
            for index, name, limit in limits:
                text = row[index]
                if isinstance(text, str) and len(text) > limit:
                    raise StoreError(f"cannot store {self.table}.{name}: {len(text)} "
                                     f"characters, at most {limit}")
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


def field_reader(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """Reads ``names`` off a record as one tuple, in one C call (``attrgetter``)."""
    if len(names) > 1:
        return attrgetter(*names)
    get = attrgetter(names[0])  # alone, attrgetter returns the value, not a 1-tuple
    return lambda record: (get(record),)
