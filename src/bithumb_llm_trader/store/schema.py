"""The tables, one per record type in ``records.py``, plus the cache and the schema version.

Column names are the record's field names, so a row rebuilds its record with
``Record(**row)``. Tables with a natural key use it as the primary key; the others get
an autoincrement ``id``. Strings carry explicit lengths because MariaDB needs them for
indexes; the store checks them on every backend (see ``STRING_LIMITS``) so SQLite,
which ignores lengths, refuses the same values the servers would.

Change anything here only together with ``SCHEMA_VERSION`` and an upgrade step in
``migrate.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.schema import SchemaItem

from .. import records as rec
from ..errors import StoreError
from .types import ExactDecimal, JSONText, UTCDateTime, long_text

SCHEMA_VERSION = 3

metadata = MetaData()

_ID = 64  # run ids, order ids, client order ids, request ids
_NAME = 64  # strategy names (config allows 1..64 characters)
_MARKET = 32
_CURRENCY = 16
_CODE = 32  # side, state, status, action, mode and other short enums
_LONG_NAME = 255  # model names, hashes, URLs, cache keys

def _id() -> Column[int]:
    return Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
        autoincrement=True,
    )


def _str(name: str, length: int, *, nullable: bool = False, **kw: Any) -> Column[str]:
    return Column(name, String(length), nullable=nullable, **kw)


def _money(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, ExactDecimal(), nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, UTCDateTime(), nullable=nullable)


def _json(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, JSONText(), nullable=nullable)


def _flag(name: str, **kw: Any) -> Column[bool]:
    return Column(name, Boolean(), nullable=False, **kw)


def _int(name: str, *, nullable: bool = False, **kw: Any) -> Column[int]:
    return Column(name, Integer(), nullable=nullable, **kw)


def _run_indexes(table: str, time_column: str = "created_at") -> list[Index]:
    """What reports filter on: one strategy over time, all strategies over time, one run."""
    return [
        Index(f"ix_{table}_strategy_time", "strategy", time_column),
        Index(f"ix_{table}_time", time_column),
        Index(f"ix_{table}_run_id", "run_id"),
    ]


def _table(name: str, *items: SchemaItem) -> Table:
    # MariaDB: InnoDB for transactions and foreign keys, utf8mb4 for Korean text, and a
    # binary collation so ids and names compare case-sensitively, as on SQLite and
    # PostgreSQL (the default collation would make "Alpha" and "alpha" one strategy).
    return Table(
        name, metadata, *items,
        mysql_engine="InnoDB", mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
        mariadb_engine="InnoDB", mariadb_charset="utf8mb4", mariadb_collate="utf8mb4_bin",
    )


cron_runs = _table(
    "cron_runs",
    _str("run_id", _ID, primary_key=True), _str("strategy", _NAME), _str("market", _MARKET),
    _str("mode", _CODE), _time("started_at"), _str("status", _CODE),
    _time("finished_at", nullable=True),
    _money("total_equity_krw", nullable=True), _money("reserved_pool_krw", nullable=True),
    _money("cash_krw", nullable=True), _money("position_value_krw", nullable=True),
    _money("last_price", nullable=True), _str("trading_state", _CODE, nullable=True),
    Column("error", Text(), nullable=True), _json("result_json", nullable=True),
    Index("ix_cron_runs_strategy_time", "strategy", "started_at"),
    Index("ix_cron_runs_time", "started_at"),
)

cron_positions = _table(
    "cron_positions",
    _id(), _str("run_id", _ID), _str("strategy", _NAME), _time("created_at"),
    _str("currency", _CURRENCY), _money("size"), _money("locked"), _money("avg_price"),
    _money("price_krw", nullable=True), _money("value_krw", nullable=True),
    _money("unrealized_pnl_krw", nullable=True),
    *_run_indexes("cron_positions"),
)

cron_features = _table(
    "cron_features",
    _id(), _str("run_id", _ID), _str("strategy", _NAME), _time("created_at"),
    _str("market", _MARKET), _money("last_price"), _money("best_bid", nullable=True),
    _money("best_ask", nullable=True), _money("spread_bps", nullable=True),
    _json("features_json"),
    *_run_indexes("cron_features"),
)

llm_decision_requests = _table(
    "llm_decision_requests",
    _id(), _str("request_id", _ID), _str("run_id", _ID), _str("strategy", _NAME),
    _time("created_at"), _str("decider", _CODE), _str("model", _LONG_NAME, nullable=True),
    _str("base_url", _LONG_NAME, nullable=True), _str("prompt_version", _ID),
    _str("response_format", _CODE, nullable=True),
    Column("system_prompt", long_text(), nullable=False),
    Column("user_prompt", long_text(), nullable=False),
    _str("prompt_hash", _LONG_NAME),
    _flag("shadow", server_default="0"), _str("server_kind", _CODE, nullable=True),
    _json("messages_json", nullable=True), _int("prompt_candles", nullable=True),
    _int("candles_dropped", server_default="0"), _int("estimated_tokens", nullable=True),
    _int("context_tokens", nullable=True),
    Index("ix_llm_decision_requests_request_id", "request_id"),
    *_run_indexes("llm_decision_requests"),
)

llm_signals = _table(
    "llm_signals",
    _id(), _str("request_id", _ID), _str("run_id", _ID), _str("strategy", _NAME),
    _time("created_at"), _str("action", _CODE), _money("confidence"),
    _str("agent_intent", _CODE), _json("payload_json"),
    Column("raw_text", long_text(), nullable=True), _json("parse_errors_json"),
    Column("hold_reason", Text(), nullable=True), _int("attempts"), _int("latency_ms"),
    _int("prompt_tokens"), _int("completion_tokens"), _money("cost_usd", nullable=True),
    _str("response_format", _CODE, nullable=True), _flag("fallback_used"), _flag("cached"),
    _flag("shadow", server_default="0"), _json("http_json", nullable=True),
    _flag("tokens_estimated", server_default="0"),
    Index("ix_llm_signals_request_id", "request_id"),
    *_run_indexes("llm_signals"),
)

risk_verdicts = _table(
    "risk_verdicts",
    _id(), _str("run_id", _ID), _str("strategy", _NAME), _time("created_at"),
    _str("action", _CODE), _flag("approved"), _flag("shrunk"), _json("reasons_json"),
    _str("trading_state", _CODE), _money("stop_loss_price", nullable=True),
    _money("take_profit_price", nullable=True), _json("details_json"),
    *_run_indexes("risk_verdicts"),
)

allocation_proposals = _table(
    "allocation_proposals",
    _id(), _str("run_id", _ID), _str("strategy", _NAME), _time("created_at"),
    _str("side", _CODE), _money("desired_notional"), _money("final_notional"),
    _money("volume"), _money("scale_factor"), _json("caps_hit_json"),
    _money("expected_slippage_bps", nullable=True), _money("fee_rate"),
    _money("fee_estimate"), _flag("use_twap"), _money("reference_price"),
    _money("equity_krw"), Column("reason", Text(), nullable=True), _json("details_json"),
    *_run_indexes("allocation_proposals"),
)

llm_executions = _table(
    "llm_executions",
    _id(), _str("execution_id", _ID), _str("run_id", _ID), _str("strategy", _NAME),
    _time("created_at"), _str("agent_intent", _CODE), _str("action", _CODE),
    _str("side", _CODE, nullable=True), _str("method", _CODE), _str("status", _CODE),
    _flag("dry_run"), _str("mode", _CODE), _str("client_order_id", _ID, nullable=True),
    _str("twap_run_id", _ID, nullable=True),
    _money("requested_notional", nullable=True), _money("requested_volume", nullable=True),
    _money("filled_volume"), _money("filled_funds"), _money("avg_price", nullable=True),
    _money("fee"), _money("reference_price", nullable=True),
    _money("arrival_price", nullable=True), _money("slippage_bps", nullable=True),
    _json("result_json"),
    Index("ix_llm_executions_execution_id", "execution_id"),
    *_run_indexes("llm_executions"),
)

orders = _table(
    "orders",
    _str("client_order_id", _ID, primary_key=True), _str("run_id", _ID),
    _str("strategy", _NAME), _str("market", _MARKET), _str("side", _CODE),
    _str("order_type", _CODE), _str("state", _CODE), _flag("dry_run"), _str("mode", _CODE),
    _time("created_at"), _time("updated_at"), _str("order_id", _ID, nullable=True),
    _money("price", nullable=True), _money("volume", nullable=True),
    _money("notional", nullable=True), _money("executed_volume"),
    _money("executed_funds"), _money("paid_fee"), _str("twap_run_id", _ID, nullable=True),
    _int("slice_no", nullable=True), Column("error", Text(), nullable=True),
    Index("ix_orders_strategy_state", "strategy", "state"),
    Index("ix_orders_strategy_mode_state", "strategy", "mode", "state"),
    *_run_indexes("orders"),
)

fills = _table(
    "fills",
    _str("client_order_id", _ID, primary_key=True), _str("trade_id", _ID, primary_key=True),
    _str("run_id", _ID), _str("strategy", _NAME), _str("market", _MARKET),
    _str("side", _CODE), _money("price"), _money("volume"), _money("funds"), _money("fee"),
    _time("created_at"), _flag("dry_run"), _str("mode", _CODE),
    ForeignKeyConstraint(["client_order_id"], ["orders.client_order_id"],
                         name="fk_fills_order"),
    *_run_indexes("fills"),
)

twap_runs = _table(
    "twap_runs",
    _str("twap_run_id", _ID, primary_key=True), _str("strategy", _NAME),
    _str("market", _MARKET), _str("side", _CODE), _str("status", _CODE), _flag("dry_run"),
    _str("mode", _CODE), _time("created_at"), _time("updated_at"), _int("duration_s"),
    _int("slice_count"),
    _str("run_id", _ID, nullable=True), _money("total_notional", nullable=True),
    _money("total_volume", nullable=True), _money("limit_price", nullable=True),
    _money("max_slippage_bps", nullable=True), _money("arrival_price", nullable=True),
    _money("filled_volume"), _money("filled_funds"), _money("avg_price", nullable=True),
    _money("slippage_bps", nullable=True), _money("fees"),
    Column("error", Text(), nullable=True), _json("params_json"),
    *_run_indexes("twap_runs"),
)

twap_slices = _table(
    "twap_slices",
    _str("twap_run_id", _ID, primary_key=True),
    Column("slice_no", Integer(), primary_key=True, autoincrement=False),
    _time("planned_at"), _str("status", _CODE), _str("client_order_id", _ID),
    _money("planned_notional", nullable=True), _money("planned_volume", nullable=True),
    _time("sent_at", nullable=True), _money("filled_volume"), _money("filled_funds"),
    _money("avg_price", nullable=True), _money("fee"), _money("slippage_bps", nullable=True),
    Column("note", Text(), nullable=True),
    ForeignKeyConstraint(["twap_run_id"], ["twap_runs.twap_run_id"],
                         name="fk_twap_slices_run"),
)

paper_wallets = _table(
    "paper_wallets",
    _str("strategy", _NAME, primary_key=True), _str("currency", _CURRENCY, primary_key=True),
    _money("balance"), _money("locked"), _money("avg_buy_price"), _time("updated_at"),
)

paper_orders = _table(
    "paper_orders",
    _str("strategy", _NAME, primary_key=True), _str("order_id", _ID, primary_key=True),
    _str("client_order_id", _ID), _str("state", _CODE), _time("updated_at"),
    _json("order_json"),
    UniqueConstraint("client_order_id", name="uq_paper_orders_client_order_id"),
)

position_guards = _table(
    "position_guards",
    _str("strategy", _NAME, primary_key=True), _str("market", _MARKET, primary_key=True),
    _str("mode", _CODE, primary_key=True),
    _money("stop_loss_price", nullable=True), _money("take_profit_price", nullable=True),
    _money("entry_price", nullable=True), _str("run_id", _ID), _time("updated_at"),
)

decision_cache = _table(
    "decision_cache",
    _str("key", _LONG_NAME, primary_key=True), _str("model", _LONG_NAME),
    Column("value", long_text(), nullable=False), _time("created_at"),
)

schema_version = _table(
    "schema_version",
    Column("version", Integer(), primary_key=True, autoincrement=False),
    _time("applied_at"),
)

RECORD_TYPES: tuple[type[Any], ...] = (
    rec.RunRecord, rec.PositionRecord, rec.FeatureRecord, rec.DecisionRequestRecord,
    rec.SignalRecord, rec.RiskVerdictRecord, rec.AllocationRecord, rec.ExecutionRecord,
    rec.OrderRecord, rec.FillRecord, rec.TwapRunRecord, rec.TwapSliceRecord,
    rec.PaperBalanceRecord, rec.PaperOrderRecord, rec.PositionGuardRecord,
)
"""Every record class; each has a table named by its ``TABLE``."""

RECORD_FIELDS: Mapping[type[Any], tuple[str, ...]] = MappingProxyType({
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in RECORD_TYPES
})
"""Field names per record class, computed once: rows are built and read by these."""

TABLE_ORDER: Mapping[str, int] = MappingProxyType({
    table.name: position for position, table in enumerate(metadata.sorted_tables)
})
"""Insert order that satisfies the foreign keys (orders before fills, runs before slices)."""

STRING_LIMITS: Mapping[str, Mapping[str, int]] = MappingProxyType({
    table.name: MappingProxyType({
        column.name: column.type.length
        for column in table.columns
        if isinstance(column.type, String) and column.type.length is not None
    })
    for table in metadata.tables.values()
})
"""Per table, the length of each bounded string column, checked before writing."""


def overlong(table: str, column: str, length: int, limit: int) -> StoreError:
    """The error for a string longer than its column: SQLite would store it, the servers
    refuse it, so every backend refuses it here, naming the column."""
    return StoreError(f"cannot store {table}.{column}: {length} characters, at most {limit}")


def table_for(record_type: type[Any]) -> Table:
    """The table a record class is stored in."""
    return metadata.tables[record_type.TABLE]
