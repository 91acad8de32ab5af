"""``SqlStore``: the ``ports.Store`` implementation on SQLAlchemy Core.

Records go in as rows whose columns are their field names and come back rebuilt with the
same dataclasses. Every method is one transaction. Upserts are portable
(update, then insert when nothing matched) so the three backends behave the same, and
any database fault leaves as a one-line ``StoreError`` naming the redacted URL. The
statements themselves are prebuilt in ``queries``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, RowMapping
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from ..ports import Clock
from ..records import (
    FillRecord,
    OrderRecord,
    PaperBalanceRecord,
    PaperOrderRecord,
    PositionGuardRecord,
    Record,
    RunUpdate,
    TwapRunRecord,
    TwapSliceRecord,
)
from . import queries as q
from . import schema as s
from .bulk import BulkInserts
from .connect import redact_url, store_error

R = TypeVar("R")


class SqlStore:
    """Persistence of every step of every cycle, on SQLite, MariaDB or PostgreSQL.

    Build it with ``open_store(url)``, which also creates or checks the schema; the
    constructor only wraps an engine whose schema is already right.
    """

    def __init__(self, engine: Engine, *, clock: Clock, label: str | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._label = label or redact_url(engine.url)
        self._bulk = BulkInserts(engine.dialect)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def label(self) -> str:
        """The database as messages name it: its URL without credentials."""
        return self._label

    @property
    def dialect_name(self) -> str:
        """``sqlite``, ``mysql`` (MariaDB too), ``mariadb`` or ``postgresql``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close the pooled connections; a later call opens new ones."""
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._label})"

    # -- plumbing --------------------------------------------------------------------
    @contextmanager
    def _begin(self, doing: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise store_error(exc, self._label, doing, self._engine.url) from exc

    def _rows(self, doing: str, query: Executable, **params: Any) -> Sequence[RowMapping]:
        with self._begin(doing) as conn:
            return conn.execute(query, params).mappings().all()

    def _scalar(self, doing: str, query: Executable, **params: Any) -> Any:
        with self._begin(doing) as conn:
            return conn.execute(query, params).scalar()

    # -- inserts ---------------------------------------------------------------------
    def write(self, records: Sequence[Record]) -> None:
        """Insert ``records`` in one transaction, one executemany per table.

        Every row is converted and checked before the transaction opens, so a bad one
        leaves nothing written.
        """
        self.write_values(record_values(records))

    def write_values(self, groups: Mapping[type[Any], Sequence[Sequence[Any]]]) -> None:
        """Insert records given as ``record_values`` gives them, in one transaction."""
        batches = [
            (bulk, bulk.rows(groups[kind]))
            for kind in sorted(groups, key=lambda k: s.TABLE_ORDER[k.TABLE])
            for bulk in (self._bulk.for_record(kind),)
        ]
        if not batches:
            return
        with self._begin("writing to") as conn:
            for bulk, rows in batches:
                bulk.execute(conn, rows)

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        """Change the given (non-None) fields of a run; an unknown run is an error."""
        values = {
            f.name: getattr(update, f.name)
            for f in fields(update)
            if getattr(update, f.name) is not None
        }
        if not values:
            return
        _check_lengths(s.cron_runs.name, values)
        with self._begin("updating a run in") as conn:
            result = conn.execute(q.UPDATE_RUN, {**values, q.MATCH + "run_id": run_id})
            if result.rowcount == 0:
                raise StoreError(f"no run {run_id!r} to update in {self._label}")

    # -- orders and fills ------------------------------------------------------------
    def save_order(self, order: OrderRecord) -> None:
        with self._begin("saving an order to") as conn:
            _upsert(conn, order)

    def get_order(self, client_order_id: str) -> OrderRecord | None:
        rows = self._rows("reading an order from", q.GET_ORDER, client_order_id=client_order_id)
        return _record(OrderRecord, rows[0]) if rows else None

    def unsettled_orders(self, strategy: str, mode: str) -> list[OrderRecord]:
        rows = self._rows("reading unsettled orders from", q.UNSETTLED_ORDERS,
                          strategy=strategy, mode=mode)
        return [_record(OrderRecord, row) for row in rows]

    def save_fills_and_order(self, order: OrderRecord, fills: Sequence[FillRecord]) -> None:
        with self._begin("saving fills to") as conn:
            _upsert(conn, order)
            new = _new_fills(conn, fills)
            if new:
                conn.execute(q.INSERT[s.fills.name], new)

    def first_equity_since(self, strategy: str, since: datetime, mode: str) -> Decimal | None:
        """Equity of the earliest run of ``mode`` at or after ``since`` that recorded one."""
        result: Decimal | None = self._scalar(
            "reading equity from", q.FIRST_EQUITY, strategy=strategy, since=since, mode=mode
        )
        return result

    def last_trade_at(self, strategy: str, mode: str) -> datetime | None:
        result: datetime | None = self._scalar(
            "reading the last trade from", q.LAST_TRADE, strategy=strategy, mode=mode
        )
        return result

    def day_totals(self, strategy: str, mode: str, since: datetime) -> tuple[Decimal, Decimal]:
        """Fees (KRW) and model cost (USD) of ``strategy`` in ``mode`` since ``since``:
        the daily summary's figures. A day's rows are few, so they are summed here,
        exactly, rather than in SQL."""
        params = {"strategy": strategy, "mode": mode, "since": since}
        fees = self._rows("reading the day's fees from", q.DAY_FEES, **params)
        costs = self._rows("reading the day's model cost from", q.DAY_MODEL_COST, **params)
        return (sum((Decimal(row["fee"]) for row in fees), Decimal(0)),
                sum((Decimal(row["cost_usd"]) for row in costs), Decimal(0)))

    # -- position guards -------------------------------------------------------------
    def load_guard(self, strategy: str, market: str, mode: str) -> PositionGuardRecord | None:
        rows = self._rows("reading a position guard from", q.GET_GUARD,
                          strategy=strategy, market=market, mode=mode)
        return _record(PositionGuardRecord, rows[0]) if rows else None

    def save_guard(self, guard: PositionGuardRecord) -> None:
        with self._begin("saving a position guard to") as conn:
            _upsert(conn, guard)

    def clear_guard(self, strategy: str, market: str, mode: str) -> None:
        with self._begin("clearing a position guard in") as conn:
            conn.execute(q.CLEAR_GUARD, {"strategy": strategy, "market": market, "mode": mode})

    # -- paper exchange --------------------------------------------------------------
    def load_paper_state(
        self, strategy: str
    ) -> tuple[list[PaperBalanceRecord], list[PaperOrderRecord]]:
        with self._begin("reading the paper state from") as conn:
            wallet = conn.execute(q.PAPER_WALLET, {"strategy": strategy}).mappings().all()
            orders = conn.execute(q.PAPER_ORDERS, {"strategy": strategy}).mappings().all()
        return (
            [_record(PaperBalanceRecord, row) for row in wallet],
            [_record(PaperOrderRecord, row) for row in orders],
        )

    def save_paper_state(
        self,
        strategy: str,
        balances: Sequence[PaperBalanceRecord],
        orders: Sequence[PaperOrderRecord],
    ) -> None:
        """Replace the strategy's wallet rows and upsert ``orders``, in one transaction."""
        _require_strategy(strategy, [*balances, *orders])
        rows = [_row(balance) for balance in balances]
        with self._begin("saving the paper state to") as conn:
            conn.execute(q.DELETE_PAPER_WALLET, {"strategy": strategy})
            if rows:
                conn.execute(q.INSERT[s.paper_wallets.name], rows)
            for order in orders:
                _upsert(conn, order)

    def reset_paper_state(self, strategy: str) -> None:
        with self._begin("resetting the paper state in") as conn:
            conn.execute(q.DELETE_PAPER_WALLET, {"strategy": strategy})
            conn.execute(q.DELETE_PAPER_ORDERS, {"strategy": strategy})

    # -- decision cache --------------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        result: str | None = self._scalar("reading the decision cache from", q.CACHE_GET, key=key)
        return result

    def cache_put(self, key: str, model: str, value: str) -> None:
        """Store ``value`` under ``key``; a second put of a key replaces the first."""
        row = {"key": key, "model": model, "value": value, "created_at": self._clock.now()}
        _check_lengths(s.decision_cache.name, row)
        with self._begin("writing the decision cache to") as conn:
            _upsert_row(conn, s.decision_cache.name, row)

    # -- TWAP ------------------------------------------------------------------------
    def save_twap_run(self, run: TwapRunRecord) -> None:
        with self._begin("saving a TWAP run to") as conn:
            _upsert(conn, run)

    def load_twap_run(self, twap_run_id: str) -> TwapRunRecord | None:
        rows = self._rows("reading a TWAP run from", q.GET_TWAP_RUN, twap_run_id=twap_run_id)
        return _record(TwapRunRecord, rows[0]) if rows else None

    def save_twap_slice(self, twap_slice: TwapSliceRecord) -> None:
        with self._begin("saving a TWAP slice to") as conn:
            _upsert(conn, twap_slice)

    def load_twap_slices(self, twap_run_id: str) -> list[TwapSliceRecord]:
        rows = self._rows("reading TWAP slices from", q.TWAP_SLICES, twap_run_id=twap_run_id)
        return [_record(TwapSliceRecord, row) for row in rows]

    def active_twap_runs(self, mode: str) -> list[TwapRunRecord]:
        """TWAP runs of ``mode`` still planned or running, from any process."""
        rows = self._rows("reading running TWAPs from", q.ACTIVE_TWAP_RUNS, mode=mode)
        return [_record(TwapRunRecord, row) for row in rows]


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


def _row(record: Any) -> dict[str, Any]:
    """A record as a row: its fields by name, strings checked against column lengths."""
    names = s.RECORD_FIELDS.get(type(record))
    if names is None:
        raise StoreError(f"cannot store a {type(record).__name__}: not a record type")
    row = {name: getattr(record, name) for name in names}
    _check_lengths(record.TABLE, row)
    return row


def _check_lengths(table: str, row: Mapping[str, Any]) -> None:
    # SQLite ignores VARCHAR lengths and the servers refuse overlong values; checking
    # here makes every backend refuse the same rows, with a message naming the column.
    for column, limit in s.STRING_LIMITS[table].items():
        value = row.get(column)
        if isinstance(value, str) and len(value) > limit:
            raise s.overlong(table, column, len(value), limit)


def _record(record_type: type[R], row: RowMapping) -> R:
    return record_type(**{name: row[name] for name in s.RECORD_FIELDS[record_type]})


def _upsert(conn: Connection, record: Any) -> None:
    _upsert_row(conn, record.TABLE, _row(record))


def _upsert_row(conn: Connection, table: str, row: Mapping[str, Any]) -> None:
    """Update the row with the same natural key, or insert it when there is none.

    Portable on purpose: dialect upserts differ (MariaDB's fires on any unique key).
    Relies on rowcount meaning rows matched, which SQLAlchemy arranges on MariaDB too.
    """
    keys = q.UPSERT_KEYS[table]
    params = {name: value for name, value in row.items() if name not in keys}
    params.update({q.MATCH + key: row[key] for key in keys})
    if conn.execute(q.UPDATE_BY_KEY[table], params).rowcount == 0:
        conn.execute(q.INSERT[table], dict(row))


def _new_fills(conn: Connection, fills: Sequence[FillRecord]) -> list[dict[str, Any]]:
    """The rows of ``fills`` not stored yet (nor repeated earlier in ``fills``)."""
    if not fills:
        return []
    order_ids = sorted({fill.client_order_id for fill in fills})
    stored = conn.execute(q.STORED_FILL_KEYS, {"client_order_ids": order_ids})
    seen = {(row.client_order_id, row.trade_id) for row in stored}
    new: list[dict[str, Any]] = []
    for fill in fills:
        key = (fill.client_order_id, fill.trade_id)
        if key not in seen:
            seen.add(key)
            new.append(_row(fill))
    return new


def _require_strategy(strategy: str, rows: Sequence[PaperBalanceRecord | PaperOrderRecord]) -> None:
    for row in rows:
        if row.strategy != strategy:
            raise StoreError(
                f"paper state of {strategy!r} given a row of strategy {row.strategy!r}"
            )


__all__ = ["SqlStore"]
