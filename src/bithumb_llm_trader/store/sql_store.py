"""``SqlStore``: the ``ports.Store`` implementation on SQLAlchemy Core.

Records go in as rows whose columns are their field names and come back rebuilt with the
same dataclasses. Every method is one transaction, except inside ``cycle_writes``: there
a cycle's writes are held (``pending``) and committed together when it ends, or as soon
as an order is saved, since an order must be on disk before it is sent. Upserts are portable
(update, then insert when nothing matched) so the three backends behave the same, and
any database fault leaves as a one-line ``StoreError`` naming the redacted URL. The
statements themselves are prebuilt in ``queries``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

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
    RunRecord,
    RunUpdate,
    TwapRunRecord,
    TwapSliceRecord,
)
from . import queries as q
from . import schema as s
from .bulk import BulkInsert, BulkInserts
from .connect import redact_url, store_error
from .pending import PendingWrites, Statement
from .rows import (
    check_lengths,
    new_fills,
    record_from,
    record_values,
    require_strategy,
    row_of,
    upsert_row,
)


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
        # Per task, not per store: the strategies of a portfolio run their cycles
        # concurrently on one store, each holding its own writes.
        self._held: ContextVar[PendingWrites | None] = ContextVar(
            f"writes held for {self._label}", default=None)

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

    # -- one transaction per cycle ---------------------------------------------------
    @contextmanager
    def cycle_writes(self) -> Iterator[None]:
        """Hold this task's writes until the block ends, then commit them in one
        transaction, whether the block ended normally or by an exception.

        Saving an order commits what is held with it at once, so a crash after the
        send still finds the order. Inside an open block this one simply joins it.
        """
        if self._holding() is not None:
            yield
            return
        held = PendingWrites()
        token = self._held.set(held)
        try:
            yield
        finally:
            self._held.reset(token)
            held.closed = True  # tasks that outlive the block write straight through
            self._commit(held)

    def _holding(self) -> PendingWrites | None:
        held = self._held.get()
        return held if held is not None and not held.closed else None

    def _holds(self, kind: Literal["orders", "twap"]) -> bool:
        held = self._holding()
        return held is not None and bool(getattr(held, kind))

    def _hold_flag(self, kind: Literal["orders", "twap"]) -> None:
        held = self._holding()
        if held is not None:
            setattr(held, kind, True)

    def _apply(self, doing: str, statement: Statement) -> None:
        """Run ``statement`` in its own transaction, or hold it in a cycle's."""
        held = self._holding()
        if held is not None:
            held.statements.append(statement)
            return
        with self._begin(doing) as conn:
            statement(conn)

    def _settle(self, needed: bool) -> None:
        """Commit what is held before a read that ``needed`` it."""
        held = self._holding()
        if needed and held is not None:
            self._commit(held)

    def _commit(self, held: PendingWrites, last: Statement | None = None) -> None:
        """Apply ``held`` (and ``last``) in one transaction; kept held if it fails."""
        if not held and last is None:
            return
        runs = [(bulk, bulk.rows(rows)) for bulk, rows in self._batches(
            record_values(held.runs.values()))]
        with self._begin("writing to") as conn:
            for bulk, rows in runs:
                bulk.execute(conn, rows)
            for statement in held.statements:
                statement(conn)
            for run_id, values in held.run_updates.items():
                self._update_run(conn, run_id, values)
            if last is not None:
                last(conn)
        held.clear()

    # -- plumbing --------------------------------------------------------------------
    @contextmanager
    def _begin(self, doing: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise store_error(exc, self._label, doing, self._engine.url) from exc

    def _batches(
        self, groups: Mapping[type[Any], Sequence[Sequence[Any]]]
    ) -> list[tuple[BulkInsert, Sequence[Sequence[Any]]]]:
        return [(self._bulk.for_record(kind), groups[kind])
                for kind in sorted(groups, key=lambda k: s.TABLE_ORDER[k.TABLE])]

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
        leaves nothing written. In a cycle a run row is held as a record, so the run's
        updates fold into its insert.
        """
        held = self._holding()
        if held is not None:
            runs = [record for record in records if isinstance(record, RunRecord)]
            if runs:
                self._bulk.for_record(RunRecord).rows(record_values(runs)[RunRecord])
                held.runs.update((run.run_id, run) for run in runs)
                records = [record for record in records if not isinstance(record, RunRecord)]
        self.write_values(record_values(records))

    def write_values(self, groups: Mapping[type[Any], Sequence[Sequence[Any]]]) -> None:
        """Insert records given as ``record_values`` gives them, in one transaction."""
        batches = [(bulk, bulk.rows(rows)) for bulk, rows in self._batches(groups)]
        if not batches:
            return

        def insert(conn: Connection) -> None:
            for bulk, rows in batches:
                bulk.execute(conn, rows)

        self._apply("writing to", insert)

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        """Change the given (non-None) fields of a run; an unknown run is an error."""
        values = {
            f.name: getattr(update, f.name)
            for f in fields(update)
            if getattr(update, f.name) is not None
        }
        if not values:
            return
        check_lengths(s.cron_runs.name, values)
        held = self._holding()
        if held is not None:
            held.update_run(run_id, values)
            return
        with self._begin("updating a run in") as conn:
            self._update_run(conn, run_id, values)

    def _update_run(self, conn: Connection, run_id: str, values: Mapping[str, Any]) -> None:
        result = conn.execute(q.UPDATE_RUN, {**values, q.MATCH + "run_id": run_id})
        if result.rowcount == 0:
            raise StoreError(f"no run {run_id!r} to update in {self._label}")

    # -- orders and fills ------------------------------------------------------------
    def save_order(self, order: OrderRecord) -> None:
        """Insert or replace an order, committed before this returns, with whatever a
        cycle holds: a ``pending`` row must be on disk before its order is sent."""
        row = row_of(order)

        def upsert(conn: Connection) -> None:
            upsert_row(conn, order.TABLE, row)

        held = self._holding()
        if held is not None:
            self._commit(held, upsert)
            return
        with self._begin("saving an order to") as conn:
            upsert(conn)

    def get_order(self, client_order_id: str) -> OrderRecord | None:
        self._settle(self._holds("orders"))
        rows = self._rows("reading an order from", q.GET_ORDER, client_order_id=client_order_id)
        return record_from(OrderRecord, rows[0]) if rows else None

    def unsettled_orders(self, strategy: str, mode: str) -> list[OrderRecord]:
        self._settle(self._holds("orders"))
        rows = self._rows("reading unsettled orders from", q.UNSETTLED_ORDERS,
                          strategy=strategy, mode=mode)
        return [record_from(OrderRecord, row) for row in rows]

    def save_fills_and_order(self, order: OrderRecord, fills: Sequence[FillRecord]) -> None:
        row = row_of(order)
        checked = [(fill, row_of(fill)) for fill in fills]

        def save(conn: Connection) -> None:
            upsert_row(conn, order.TABLE, row)
            new = new_fills(conn, checked)
            if new:
                conn.execute(q.INSERT[s.fills.name], new)

        self._hold_flag("orders")
        self._apply("saving fills to", save)

    def first_equity_since(self, strategy: str, since: datetime, mode: str) -> Decimal | None:
        """Equity of the earliest run of ``mode`` at or after ``since`` that recorded one.

        Runs a cycle holds count: they started after every stored one.
        """
        held = self._holding()
        self._settle(held is not None and bool(held.run_updates))
        result: Decimal | None = self._scalar(
            "reading equity from", q.FIRST_EQUITY, strategy=strategy, since=since, mode=mode
        )
        if result is None and held is not None:
            result = held.first_equity(strategy, since, mode)
        return result

    def last_trade_at(self, strategy: str, mode: str) -> datetime | None:
        self._settle(self._holds("orders"))
        result: datetime | None = self._scalar(
            "reading the last trade from", q.LAST_TRADE, strategy=strategy, mode=mode
        )
        return result

    def day_totals(self, strategy: str, mode: str, since: datetime) -> tuple[Decimal, Decimal]:
        """Fees (KRW) and model cost (USD) of ``strategy`` in ``mode`` since ``since``:
        the daily summary's figures. A day's rows are few, so they are summed here,
        exactly, rather than in SQL."""
        held = self._holding()
        self._settle(held is not None and bool(held))
        params = {"strategy": strategy, "mode": mode, "since": since}
        fees = self._rows("reading the day's fees from", q.DAY_FEES, **params)
        costs = self._rows("reading the day's model cost from", q.DAY_MODEL_COST, **params)
        return (sum((Decimal(row["fee"]) for row in fees), Decimal(0)),
                sum((Decimal(row["cost_usd"]) for row in costs), Decimal(0)))

    # -- position guards -------------------------------------------------------------
    def load_guard(self, strategy: str, market: str, mode: str) -> PositionGuardRecord | None:
        held = self._holding()
        if held is not None and (strategy, market, mode) in held.guards:
            return held.guards[(strategy, market, mode)]
        rows = self._rows("reading a position guard from", q.GET_GUARD,
                          strategy=strategy, market=market, mode=mode)
        return record_from(PositionGuardRecord, rows[0]) if rows else None

    def save_guard(self, guard: PositionGuardRecord) -> None:
        row = row_of(guard)
        held = self._holding()
        if held is not None:
            held.guards[(guard.strategy, guard.market, guard.mode)] = guard
        self._apply("saving a position guard to",
                    lambda conn: upsert_row(conn, guard.TABLE, row))

    def clear_guard(self, strategy: str, market: str, mode: str) -> None:
        held = self._holding()
        if held is not None:
            held.guards[(strategy, market, mode)] = None
        key = {"strategy": strategy, "market": market, "mode": mode}

        def clear(conn: Connection) -> None:
            conn.execute(q.CLEAR_GUARD, key)

        self._apply("clearing a position guard in", clear)

    # -- paper exchange --------------------------------------------------------------
    def load_paper_state(
        self, strategy: str
    ) -> tuple[list[PaperBalanceRecord], list[PaperOrderRecord]]:
        held = self._holding()
        self._settle(held is not None and strategy in held.paper)
        with self._begin("reading the paper state from") as conn:
            wallet = conn.execute(q.PAPER_WALLET, {"strategy": strategy}).mappings().all()
            orders = conn.execute(q.PAPER_ORDERS, {"strategy": strategy}).mappings().all()
        return (
            [record_from(PaperBalanceRecord, row) for row in wallet],
            [record_from(PaperOrderRecord, row) for row in orders],
        )

    def save_paper_state(
        self,
        strategy: str,
        balances: Sequence[PaperBalanceRecord],
        orders: Sequence[PaperOrderRecord],
    ) -> None:
        """Replace the strategy's wallet rows and upsert ``orders``, in one transaction."""
        require_strategy(strategy, [*balances, *orders])
        rows = [row_of(balance) for balance in balances]
        order_rows = [row_of(order) for order in orders]

        def save(conn: Connection) -> None:
            conn.execute(q.DELETE_PAPER_WALLET, {"strategy": strategy})
            if rows:
                conn.execute(q.INSERT[s.paper_wallets.name], rows)
            for row in order_rows:
                upsert_row(conn, s.paper_orders.name, row)

        held = self._holding()
        if held is not None:
            held.paper.add(strategy)
        self._apply("saving the paper state to", save)

    def reset_paper_state(self, strategy: str) -> None:
        held = self._holding()
        self._settle(held is not None and bool(held))
        with self._begin("resetting the paper state in") as conn:
            conn.execute(q.DELETE_PAPER_WALLET, {"strategy": strategy})
            conn.execute(q.DELETE_PAPER_ORDERS, {"strategy": strategy})

    # -- decision cache --------------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        held = self._holding()
        if held is not None and key in held.cache:
            return held.cache[key]
        result: str | None = self._scalar("reading the decision cache from", q.CACHE_GET, key=key)
        return result

    def cache_put(self, key: str, model: str, value: str) -> None:
        """Store ``value`` under ``key``; a second put of a key replaces the first."""
        row = {"key": key, "model": model, "value": value, "created_at": self._clock.now()}
        check_lengths(s.decision_cache.name, row)
        held = self._holding()
        if held is not None:
            held.cache[key] = value
        self._apply("writing the decision cache to",
                    lambda conn: upsert_row(conn, s.decision_cache.name, row))

    # -- TWAP ------------------------------------------------------------------------
    def save_twap_run(self, run: TwapRunRecord) -> None:
        row = row_of(run)
        self._hold_flag("twap")
        self._apply("saving a TWAP run to", lambda conn: upsert_row(conn, run.TABLE, row))

    def load_twap_run(self, twap_run_id: str) -> TwapRunRecord | None:
        self._settle(self._holds("twap"))
        rows = self._rows("reading a TWAP run from", q.GET_TWAP_RUN, twap_run_id=twap_run_id)
        return record_from(TwapRunRecord, rows[0]) if rows else None

    def save_twap_slice(self, twap_slice: TwapSliceRecord) -> None:
        row = row_of(twap_slice)
        self._hold_flag("twap")
        self._apply("saving a TWAP slice to",
                    lambda conn: upsert_row(conn, twap_slice.TABLE, row))

    def load_twap_slices(self, twap_run_id: str) -> list[TwapSliceRecord]:
        self._settle(self._holds("twap"))
        rows = self._rows("reading TWAP slices from", q.TWAP_SLICES, twap_run_id=twap_run_id)
        return [record_from(TwapSliceRecord, row) for row in rows]

    def active_twap_runs(self, mode: str) -> list[TwapRunRecord]:
        """TWAP runs of ``mode`` still planned or running, from any process."""
        self._settle(self._holds("twap"))
        rows = self._rows("reading running TWAPs from", q.ACTIVE_TWAP_RUNS, mode=mode)
        return [record_from(TwapRunRecord, row) for row in rows]


__all__ = ["SqlStore", "record_values"]
