"""Records as rows and back: the conversions and checks ``SqlStore`` runs on each.

Kept apart from the store so the store reads as its transactions; everything here is a
pure function of records and rows, or one statement on a connection it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping

from ..errors import StoreError
from ..records import FillRecord, PaperBalanceRecord, PaperOrderRecord, Record
from . import queries as q
from . import schema as s

R = TypeVar("R")


def record_values(records: Iterable[Record]) -> dict[type[Any], list[tuple[Any, ...]]]:
    """``records`` grouped by type, each read as the tuple of its fields: plain data that
    can go to another process.

    Raises:
        StoreError: something that is not a record type.
    """
    groups: dict[type[Any], list[tuple[Any, ...]]] = {}
    for record in records:
        kind = type(record)
        read = _FIELD_READERS.get(kind)
        if read is None:
            raise StoreError(f"cannot store a {kind.__name__}: not a record type")
        groups.setdefault(kind, []).append(read(record))
    return groups


def _field_reader(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """Reads ``names`` off a record as one tuple, in one C call (``attrgetter``)."""
    if len(names) > 1:
        return attrgetter(*names)
    get = attrgetter(names[0])  # alone, attrgetter returns the value, not a 1-tuple
    return lambda record: (get(record),)


_FIELD_READERS = {kind: _field_reader(names) for kind, names in s.RECORD_FIELDS.items()}


def row_of(record: Any) -> dict[str, Any]:
    """A record as a row: its fields by name, strings checked against column lengths."""
    names = s.RECORD_FIELDS.get(type(record))
    if names is None:
        raise StoreError(f"cannot store a {type(record).__name__}: not a record type")
    row = {name: getattr(record, name) for name in names}
    check_lengths(record.TABLE, row)
    return row


def check_lengths(table: str, row: Mapping[str, Any]) -> None:
    # SQLite ignores VARCHAR lengths and the servers refuse overlong values; checking
    # here makes every backend refuse the same rows, with a message naming the column.
    for column, limit in s.STRING_LIMITS[table].items():
        value = row.get(column)
        if isinstance(value, str) and len(value) > limit:
            raise s.overlong(table, column, len(value), limit)


def record_from(record_type: type[R], row: RowMapping) -> R:
    return record_type(**{name: row[name] for name in s.RECORD_FIELDS[record_type]})


def upsert_row(conn: Connection, table: str, row: Mapping[str, Any]) -> None:
    """Update the row with the same natural key, or insert it when there is none.

    Portable on purpose: dialect upserts differ (MariaDB's fires on any unique key).
    Relies on rowcount meaning rows matched, which SQLAlchemy arranges on MariaDB too.
    """
    keys = q.UPSERT_KEYS[table]
    params = {name: value for name, value in row.items() if name not in keys}
    params.update({q.MATCH + key: row[key] for key in keys})
    if conn.execute(q.UPDATE_BY_KEY[table], params).rowcount == 0:
        conn.execute(q.INSERT[table], dict(row))


def new_fills(
    conn: Connection, fills: Sequence[tuple[FillRecord, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The rows of ``fills`` (each with its row) not stored yet (nor repeated earlier)."""
    if not fills:
        return []
    order_ids = sorted({fill.client_order_id for fill, _ in fills})
    stored = conn.execute(q.STORED_FILL_KEYS, {"client_order_ids": order_ids})
    seen = {(row.client_order_id, row.trade_id) for row in stored}
    new: list[dict[str, Any]] = []
    for fill, row in fills:
        key = (fill.client_order_id, fill.trade_id)
        if key not in seen:
            seen.add(key)
            new.append(row)
    return new


def require_strategy(strategy: str, rows: Sequence[PaperBalanceRecord | PaperOrderRecord]) -> None:
    for row in rows:
        if row.strategy != strategy:
            raise StoreError(
                f"paper state of {strategy!r} given a row of strategy {row.strategy!r}"
            )


__all__ = ["check_lengths", "new_fills", "record_from", "record_values", "require_strategy",
           "row_of", "upsert_row"]
