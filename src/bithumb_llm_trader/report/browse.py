"""Paged, read-only lookups of single records, for ``serve``'s API next to the report's
aggregates: runs, orders, fills and TWAPs a page at a time, one run's every row, and the
latest points of a price or equity series.

Same rules as ``queries``: SQLAlchemy Core, conditions from ``within`` / ``in_modes`` (so
a mode filter means what it means in a report), nothing written. Pages are newest first
and bounded by the caller's ``limit``; every statement walks an index in its order
(``strategy, time`` or ``time``), so a page costs the same on a year of cycles as on a
day. A page asks for one row more than it shows, to tell whether another follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    func,
    inspect,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from ..lease import leases
from ..store import schema as s
from .period import Period
from .queries import Scope, within

Record = dict[str, Any]
"""A row as column name -> value (datetimes aware, money ``Decimal``)."""

RUN_COLUMNS = ("run_id", "strategy", "market", "mode", "started_at", "finished_at", "status",
               "total_equity_krw", "reserved_pool_krw", "cash_krw", "position_value_krw",
               "last_price", "trading_state", "error")
"""What a listed run shows; its ``result_json`` (kilobytes) only in its full record."""

RUN_TABLES = (s.cron_positions, s.cron_features, s.llm_decision_requests, s.llm_signals,
              s.risk_verdicts, s.allocation_proposals, s.llm_executions, s.orders, s.fills,
              s.twap_runs)
"""The tables a run's full record is read from, in the order of a cycle's steps."""


class CursorMismatch(ValueError):
    """A cursor made by another list (its key has other columns)."""


@dataclass(frozen=True, slots=True)
class Filter:
    """Which rows a list shows; empty tuples mean every value."""

    period: Period = field(default_factory=Period)
    strategies: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    @property
    def scope(self) -> Scope:
        return Scope(period=self.period, strategies=self.strategies, modes=self.modes)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """``limit`` rows after skipping ``offset``, or after the row ``after`` names
    (its time and key: a cursor that stays put while new rows arrive)."""

    limit: int
    offset: int = 0
    after: tuple[datetime, tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """The rows of a page, and the cursor of its last row when another page follows."""

    rows: list[Record]
    more: bool
    cursor: tuple[datetime, tuple[str, ...]] | None


@dataclass(frozen=True, slots=True)
class _Listing:
    table: Table
    when: str
    keys: tuple[str, ...]
    status: str | None
    columns: tuple[str, ...] | None = None


_RUNS = _Listing(s.cron_runs, "started_at", ("run_id",), "status", RUN_COLUMNS)
_ORDERS = _Listing(s.orders, "created_at", ("client_order_id",), "state")
_FILLS = _Listing(s.fills, "created_at", ("client_order_id", "trade_id"), None)
_TWAPS = _Listing(s.twap_runs, "created_at", ("twap_run_id",), "status")


def runs_page(conn: Connection, wanted: Filter, page: PageRequest) -> Page:
    """Runs, newest first (``cron_runs`` without the stored cycle result)."""
    return _page(conn, _RUNS, wanted, page)


def orders_page(conn: Connection, wanted: Filter, page: PageRequest) -> Page:
    """Orders, newest first; ``statuses`` filters their ``state``."""
    return _page(conn, _ORDERS, wanted, page)


def fills_page(conn: Connection, wanted: Filter, page: PageRequest) -> Page:
    return _page(conn, _FILLS, wanted, page)


def twap_runs_page(conn: Connection, wanted: Filter, page: PageRequest) -> Page:
    return _page(conn, _TWAPS, wanted, page)


def _page(conn: Connection, listing: _Listing, wanted: Filter, page: PageRequest) -> Page:
    table = listing.table
    when = table.c[listing.when]
    keys = [table.c[key] for key in listing.keys]
    chosen = table.c if listing.columns is None else [table.c[c] for c in listing.columns]
    conditions = within(table, when, wanted.scope)
    if wanted.statuses and listing.status is not None:
        conditions.append(table.c[listing.status].in_(wanted.statuses))
    if page.after is not None:
        conditions.append(_before(when, keys, *page.after))
    statement = (select(*chosen).where(*conditions)
                 .order_by(when.desc(), *(key.desc() for key in keys))
                 .limit(page.limit + 1).offset(page.offset))
    rows = [dict(row._mapping) for row in conn.execute(statement)]
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    cursor = None
    if more and rows:
        last = rows[-1]
        cursor = (last[listing.when], tuple(str(last[key]) for key in listing.keys))
    return Page(rows=rows, more=more, cursor=cursor)


def _before(when: KeyedColumnElement[Any], keys: Sequence[KeyedColumnElement[Any]],
            at: datetime, values: tuple[str, ...]) -> ColumnElement[bool]:
    """Rows after (time, keys) in newest-first order: earlier, or as early with a
    smaller key (compared column by column, as the ORDER BY does)."""
    if len(values) != len(keys):
        raise CursorMismatch("the cursor does not belong to this list")
    tie: ColumnElement[bool] = keys[-1] < values[-1]
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        tie = or_(key < value, and_(key == value, tie))
    return or_(when < at, and_(when == at, tie))


def run_record(conn: Connection, run_id: str) -> dict[str, Any] | None:
    """Every row one cycle wrote, by table; None when there is no such run."""
    runs = s.cron_runs
    run = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    if run is None:
        return None
    record: dict[str, Any] = {"run": dict(run._mapping)}
    for table in RUN_TABLES:
        record[table.name] = [dict(row._mapping) for row in conn.execute(
            select(table).where(table.c.run_id == run_id))]
    twap_ids = [row["twap_run_id"] for row in record[s.twap_runs.name]]
    record[s.twap_slices.name] = twap_slices(conn, twap_ids)
    return record


def twap_run(conn: Connection, twap_run_id: str) -> Record | None:
    """A TWAP run with its slices under ``slices``; None when there is no such run."""
    t = s.twap_runs
    row = conn.execute(select(t).where(t.c.twap_run_id == twap_run_id)).first()
    if row is None:
        return None
    return {**row._mapping, "slices": twap_slices(conn, [twap_run_id])}


def twap_slices(conn: Connection, twap_run_ids: Sequence[str]) -> list[Record]:
    if not twap_run_ids:
        return []
    t = s.twap_slices
    statement = (select(t).where(t.c.twap_run_id.in_(list(twap_run_ids)))
                 .order_by(t.c.twap_run_id, t.c.slice_no))
    return [dict(row._mapping) for row in conn.execute(statement)]


def latest_run(conn: Connection, wanted: Filter) -> Record | None:
    """The newest run in ``wanted`` with its stored cycle result (``result_json``)."""
    t = s.cron_runs
    statement = (select(t).where(*within(t, t.c.started_at, wanted.scope))
                 .order_by(t.c.started_at.desc(), t.c.run_id.desc()).limit(1))
    row = conn.execute(statement).first()
    return None if row is None else dict(row._mapping)


def equity_points(conn: Connection, strategy: str, scope: Scope,
                  limit: int) -> list[tuple[datetime, Any]]:
    """The newest ``limit`` equity points of one strategy in ``scope``'s one mode, oldest
    first (a curve never joins two modes: the caller names exactly one)."""
    t = s.cron_runs
    statement = (select(t.c.started_at, t.c.total_equity_krw)
                 .where(t.c.strategy == strategy, t.c.total_equity_krw.is_not(None),
                        *within(t, t.c.started_at, scope))
                 .order_by(t.c.started_at.desc()).limit(limit))
    return [(row[0], row[1]) for row in reversed(conn.execute(statement).all())]


def price_points(conn: Connection, strategy: str, scope: Scope,
                 limit: int) -> list[Record]:
    """The newest ``limit`` snapshot prices (``cron_features``) of one strategy in
    ``scope``'s modes, oldest first."""
    f, runs = s.cron_features, s.cron_runs
    statement = (select(f.c.created_at, f.c.market, f.c.last_price, f.c.best_bid, f.c.best_ask)
                 .select_from(f.join(runs, f.c.run_id == runs.c.run_id))
                 .where(f.c.strategy == strategy, *within(f, f.c.created_at, scope, runs=runs))
                 .order_by(f.c.created_at.desc()).limit(limit))
    return [dict(row._mapping) for row in reversed(conn.execute(statement).all())]


def trade_points(conn: Connection, strategy: str, scope: Scope, since: datetime | None,
                 limit: int) -> list[Record]:
    """Executions that traded (single orders and TWAPs), oldest first, from ``since``."""
    t = s.llm_executions
    conditions = [t.c.strategy == strategy, t.c.method != "none", t.c.avg_price.is_not(None),
                  *within(t, t.c.created_at, scope)]
    if since is not None:
        conditions.append(t.c.created_at >= since)
    statement = (select(t.c.created_at, t.c.run_id, t.c.side, t.c.method, t.c.status,
                        t.c.avg_price, t.c.filled_volume, t.c.filled_funds, t.c.slippage_bps)
                 .where(*conditions).order_by(t.c.created_at.desc()).limit(limit))
    return [dict(row._mapping) for row in reversed(conn.execute(statement).all())]


def by_runs(conn: Connection, table: Table, run_ids: Sequence[str],
            columns: Sequence[str]) -> dict[str, Record]:
    """The row of ``table`` per run id (the last one when a run wrote several)."""
    if not run_ids:
        return {}
    chosen = [table.c.run_id, *(table.c[name] for name in columns)]
    statement = select(*chosen).where(table.c.run_id.in_(list(run_ids)))
    return {row[0]: dict(row._mapping) for row in conn.execute(statement)}


def guards(conn: Connection, strategies: Sequence[str] = ()) -> list[Record]:
    """The stop-loss and take-profit prices guarding open positions, per mode."""
    t = s.position_guards
    statement = select(t).order_by(t.c.strategy, t.c.mode, t.c.market)
    if strategies:
        statement = statement.where(t.c.strategy.in_(list(strategies)))
    return [dict(row._mapping) for row in conn.execute(statement)]


def positions_of(conn: Connection, run_id: str) -> list[Record]:
    t = s.cron_positions
    statement = select(t.c.currency, t.c.size, t.c.locked, t.c.avg_price, t.c.price_krw,
                       t.c.value_krw, t.c.unrealized_pnl_krw).where(t.c.run_id == run_id)
    return [dict(row._mapping) for row in conn.execute(statement.order_by(t.c.currency))]


def lease_holders(conn: Connection) -> list[Record]:
    """Who holds (or last held) each account's lease; the holder's token is left out.

    The ``leases`` table is created by the first process that takes a lease, so a
    database may not have it yet: then nobody holds one.
    """
    if not inspect(conn).has_table(leases.name):
        return []
    t = leases
    statement = select(t.c.lease_key, t.c.holder_host, t.c.holder_pid, t.c.since,
                       t.c.heartbeat_at, t.c.expires_at).order_by(t.c.lease_key)
    return [dict(row._mapping) for row in conn.execute(statement)]


def run_pairs_stmt(after_rowid: int | None) -> Select[Any]:
    """Each strategy's modes and markets with their newest run; on SQLite only the rows
    after ``after_rowid`` (its rowids grow with every insert, so a refresh reads only
    what was written since the last one, backtests of the past included)."""
    t = s.cron_runs
    columns: list[Any] = [t.c.strategy, t.c.mode, t.c.market, _max(t.c.started_at)]
    conditions: list[ColumnElement[bool]] = []
    if after_rowid is not None:
        rowid = _rowid()
        columns.append(_max(rowid))
        conditions.append(rowid > after_rowid)
    return select(*columns).where(*conditions).group_by(t.c.strategy, t.c.mode, t.c.market)


def latest_in_pair(conn: Connection, strategy: str, mode: str, at: datetime) -> Record | None:
    """The run of ``strategy`` in ``mode`` started at ``at`` (its newest, as the caller's
    index of pairs knows), with its stored cycle result: an exact index lookup, where a
    search by mode would walk every run of the other modes."""
    t = s.cron_runs
    statement = (select(t).where(t.c.strategy == strategy, t.c.started_at == at,
                                 t.c.mode == mode)
                 .order_by(t.c.run_id.desc()).limit(1))
    row = conn.execute(statement).first()
    return None if row is None else dict(row._mapping)


def latest_valued_run(conn: Connection, strategy: str, scope: Scope) -> Record | None:
    """The newest run of ``strategy`` in ``scope`` that valued the account (a run that
    failed before its snapshot has no equity and no positions)."""
    t = s.cron_runs
    statement = (select(*(t.c[name] for name in RUN_COLUMNS))
                 .where(t.c.strategy == strategy, t.c.total_equity_krw.is_not(None),
                        *within(t, t.c.started_at, scope))
                 .order_by(t.c.started_at.desc(), t.c.run_id.desc()).limit(1))
    row = conn.execute(statement).first()
    return None if row is None else dict(row._mapping)


def latest_levels(conn: Connection, strategy: str, scope: Scope) -> Record | None:
    """The stop-loss and take-profit of the newest approved verdict that set them."""
    t, runs = s.risk_verdicts, s.cron_runs
    statement = (select(t.c.created_at, t.c.run_id, t.c.action, t.c.stop_loss_price,
                        t.c.take_profit_price)
                 .select_from(t.join(runs, t.c.run_id == runs.c.run_id))
                 .where(t.c.strategy == strategy, t.c.approved.is_(True),
                        t.c.stop_loss_price.is_not(None),
                        *within(t, t.c.created_at, scope, runs=runs))
                 .order_by(t.c.created_at.desc()).limit(1))
    row = conn.execute(statement).first()
    return None if row is None else dict(row._mapping)


def _max(column: Any) -> Any:
    return func.max(column)


def _rowid() -> Any:
    return literal_column(f"{s.cron_runs.name}.rowid")
