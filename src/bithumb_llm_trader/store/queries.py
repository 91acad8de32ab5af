"""Every statement the store runs, built once with bind parameters.

Why prebuilt: building a SQLAlchemy statement and computing its cache key costs tens of
microseconds, several times what SQLite takes to run it. Values always travel as
execution parameters, so each statement compiles once per engine and the statements of
a cycle's one or two transactions stay within a few milliseconds. Statements are
immutable; sharing them is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import (
    Delete,
    Insert,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    func,
    select,
)
from sqlalchemy import delete as _delete
from sqlalchemy import insert as _insert
from sqlalchemy import update as _update

from ..domain import OrderState
from . import schema as s

FINAL_ORDER_STATES = tuple(sorted(state.value for state in OrderState if state.is_final))
"""Order states after which nothing changes on the exchange: cancel, done, not_sent, rejected."""

MATCH = "match_"
"""Prefix of the WHERE parameters of updates, kept apart from the SET parameters."""


def _update_matching(table: Table, keys: tuple[str, ...]) -> Update:
    """``UPDATE table SET <the columns given at execution> WHERE key = :match_key ...``."""
    return _update(table).where(and_(*(table.c[key] == bindparam(MATCH + key) for key in keys)))


INSERT: Mapping[str, Insert] = MappingProxyType(
    {table.name: _insert(table) for table in s.metadata.sorted_tables}
)

UPSERT_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    s.orders.name: ("client_order_id",),
    s.position_guards.name: ("strategy", "market"),
    s.paper_orders.name: ("strategy", "order_id"),
    s.decision_cache.name: ("key",),
    s.twap_runs.name: ("twap_run_id",),
    s.twap_slices.name: ("twap_run_id", "slice_no"),
})
"""The natural key each upserted table is matched on."""

UPDATE_BY_KEY: Mapping[str, Update] = MappingProxyType({
    name: _update_matching(s.metadata.tables[name], keys) for name, keys in UPSERT_KEYS.items()
})

UPDATE_RUN = _update_matching(s.cron_runs, ("run_id",))

_orders, _runs, _fills = s.orders, s.cron_runs, s.fills
_guards, _wallets, _paper = s.position_guards, s.paper_wallets, s.paper_orders

GET_ORDER: Select[tuple[object, ...]] = select(_orders).where(
    _orders.c.client_order_id == bindparam("client_order_id")
)
UNSETTLED_ORDERS: Select[tuple[object, ...]] = (
    select(_orders)
    .where(_orders.c.strategy == bindparam("strategy"), _orders.c.mode == bindparam("mode"),
           _orders.c.state.not_in(FINAL_ORDER_STATES))
    .order_by(_orders.c.created_at, _orders.c.client_order_id)
)
STORED_FILL_KEYS = select(_fills.c.client_order_id, _fills.c.trade_id).where(
    _fills.c.client_order_id.in_(bindparam("client_order_ids", expanding=True))
)
# Modes never mix: a dry run's paper equity must never set a live run's daily-loss
# baseline, nor a backtest's simulated fills anyone's cooldown.
FIRST_EQUITY = (
    select(_runs.c.total_equity_krw)
    .where(_runs.c.strategy == bindparam("strategy"), _runs.c.started_at >= bindparam("since"),
           _runs.c.total_equity_krw.is_not(None), _runs.c.mode == bindparam("mode"))
    .order_by(_runs.c.started_at, _runs.c.run_id)
    .limit(1)
)
LAST_TRADE = select(func.max(_fills.c.created_at)).where(
    _fills.c.strategy == bindparam("strategy"), _fills.c.mode == bindparam("mode"),
)

DAY_FEES: Select[tuple[object, ...]] = select(_fills.c.fee).where(
    _fills.c.strategy == bindparam("strategy"), _fills.c.mode == bindparam("mode"),
    _fills.c.created_at >= bindparam("since"),
)
DAY_MODEL_COST: Select[tuple[object, ...]] = (
    select(s.llm_signals.c.cost_usd)
    .join(_runs, _runs.c.run_id == s.llm_signals.c.run_id)
    .where(s.llm_signals.c.strategy == bindparam("strategy"),
           _runs.c.mode == bindparam("mode"), s.llm_signals.c.created_at >= bindparam("since"),
           s.llm_signals.c.cost_usd.is_not(None))
)

_GUARD_MATCH = and_(_guards.c.strategy == bindparam("strategy"),
                    _guards.c.market == bindparam("market"),
                    _guards.c.mode == bindparam("mode"))
GET_GUARD: Select[tuple[object, ...]] = select(_guards).where(_GUARD_MATCH)
CLEAR_GUARD: Delete = _delete(_guards).where(_GUARD_MATCH)

PAPER_WALLET: Select[tuple[object, ...]] = (
    select(_wallets).where(_wallets.c.strategy == bindparam("strategy"))
    .order_by(_wallets.c.currency)
)
PAPER_ORDERS: Select[tuple[object, ...]] = (
    select(_paper).where(_paper.c.strategy == bindparam("strategy"))
    .order_by(_paper.c.updated_at, _paper.c.order_id)
)
DELETE_PAPER_WALLET: Delete = _delete(_wallets).where(_wallets.c.strategy == bindparam("strategy"))
DELETE_PAPER_ORDERS: Delete = _delete(_paper).where(_paper.c.strategy == bindparam("strategy"))

CACHE_GET = select(s.decision_cache.c.value).where(s.decision_cache.c.key == bindparam("key"))

GET_TWAP_RUN: Select[tuple[object, ...]] = select(s.twap_runs).where(
    s.twap_runs.c.twap_run_id == bindparam("twap_run_id")
)
ACTIVE_TWAP_RUNS: Select[tuple[object, ...]] = select(s.twap_runs).where(
    s.twap_runs.c.status.in_(("planned", "running")), s.twap_runs.c.mode == bindparam("mode")
)
TWAP_SLICES: Select[tuple[object, ...]] = (
    select(s.twap_slices).where(s.twap_slices.c.twap_run_id == bindparam("twap_run_id"))
    .order_by(s.twap_slices.c.slice_no)
)
