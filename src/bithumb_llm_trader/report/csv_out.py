"""CSV for spreadsheets: one row per execution that sent an order, one per TWAP slice.

Cycles that sent nothing (HOLD, rejected) are left out: they have no price, volume or
fee to analyse, and the table and JSON already count them. Rows are streamed from the
database, so a long history never sits in memory. Numbers are exact decimal text and
times ISO 8601 UTC, so a spreadsheet imports them without guessing a locale. Every row
names its mode (``dry``, ``live``, ``backtest``), and backtest rows are those of the
backtest the report reads (``backtests.resolve``), as in the other formats.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import Connection, Select, select
from sqlalchemy.exc import SQLAlchemyError

from ..store import schema as s
from ..store.connect import store_error
from ..store.types import plain_decimal_text
from .backtests import resolve
from .build import check_strategies
from .queries import Scope, strategies_stmt, within
from .source import ReportSource
from .stats import signed_slippage_bps

COLUMNS = (
    "kind", "strategy", "mode", "run_id", "execution_id", "twap_run_id", "slice_no", "time",
    "action", "side", "method", "status", "dry_run", "client_order_id",
    "requested_notional_krw", "requested_volume", "filled_volume", "filled_funds_krw",
    "avg_price", "fee_krw", "snapshot_price", "arrival_price", "slippage_vs_snapshot_bps",
    "slippage_vs_arrival_bps",
)
"""The header row; stable like the JSON keys (documented in the README)."""
_BATCH = 2000


def write_csv(source: ReportSource, scope: Scope, out: TextIO) -> int:
    """Write the header and every row of ``scope`` to ``out``; return the rows written.

    Raises:
        StoreError: no runs at all, an unknown strategy, or a failed read.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    written = 0
    try:
        with source.snapshot() as conn, conn.begin():
            known = [row[0] for row in conn.execute(strategies_stmt())]
            check_strategies(known, scope, source.label)
            scope, _ = resolve(conn, scope, source.label)
            for row in _stream(conn, _executions_stmt(scope)):
                writer.writerow(_execution_row(row))
                written += 1
            for row in _stream(conn, _slices_stmt(scope)):
                writer.writerow(_slice_row(row))
                written += 1
    except SQLAlchemyError as exc:
        raise store_error(exc, source.label, "reading a report from", source.engine.url) from exc
    return written


def _stream(conn: Connection, statement: Select[Any]) -> Iterator[Sequence[Any]]:
    result = conn.execution_options(yield_per=_BATCH).execute(statement)
    yield from result


def _executions_stmt(scope: Scope) -> Select[Any]:
    t = s.llm_executions
    return (
        select(t.c.strategy, t.c.mode, t.c.run_id, t.c.execution_id, t.c.twap_run_id,
               t.c.created_at, t.c.action, t.c.side, t.c.method, t.c.status, t.c.dry_run,
               t.c.client_order_id, t.c.requested_notional, t.c.requested_volume,
               t.c.filled_volume, t.c.filled_funds, t.c.avg_price, t.c.fee,
               t.c.reference_price, t.c.arrival_price)
        .where(t.c.method != "none", *within(t, t.c.created_at, scope))
        .order_by(t.c.created_at, t.c.execution_id)
    )


def _slices_stmt(scope: Scope) -> Select[Any]:
    sl, run = s.twap_slices, s.twap_runs
    return (
        select(run.c.strategy, run.c.mode, run.c.run_id, sl.c.twap_run_id, sl.c.slice_no,
               sl.c.sent_at, sl.c.planned_at, run.c.side, sl.c.status, run.c.dry_run,
               sl.c.client_order_id, sl.c.planned_notional, sl.c.planned_volume,
               sl.c.filled_volume, sl.c.filled_funds, sl.c.avg_price, sl.c.fee,
               run.c.arrival_price)
        .select_from(sl.join(run, sl.c.twap_run_id == run.c.twap_run_id))
        .where(*within(run, run.c.created_at, scope))
        .order_by(run.c.created_at, sl.c.twap_run_id, sl.c.slice_no)
    )


def _execution_row(row: Sequence[Any]) -> list[str]:
    (strategy, mode, run_id, execution_id, twap_run_id, created_at, action, side, method,
     status, dry_run, client_order_id, notional, volume, filled_volume, filled_funds, avg,
     fee, reference, arrival) = row
    return [
        "execution", strategy, mode, run_id, execution_id, _text(twap_run_id), "",
        created_at.isoformat(), action, _text(side), method, status, _flag(dry_run),
        _text(client_order_id), _text(notional), _text(volume), _text(filled_volume),
        _text(filled_funds), _text(avg), _text(fee), _text(reference), _text(arrival),
        _text(signed_slippage_bps(side, avg, reference)),
        _text(signed_slippage_bps(side, avg, arrival)),
    ]


def _slice_row(row: Sequence[Any]) -> list[str]:
    """A TWAP child; its slippage is measured against the parent's arrival price."""
    (strategy, mode, run_id, twap_run_id, slice_no, sent_at, planned_at, side, status,
     dry_run, client_order_id, notional, volume, filled_volume, filled_funds, avg, fee,
     arrival) = row
    return [
        "twap_slice", strategy, mode, _text(run_id), "", twap_run_id, str(slice_no),
        (sent_at or planned_at).isoformat(), "", side, "twap", status, _flag(dry_run),
        client_order_id, _text(notional), _text(volume), _text(filled_volume),
        _text(filled_funds), _text(avg), _text(fee), "", _text(arrival), "",
        _text(signed_slippage_bps(side, avg, arrival)),
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain_decimal_text(value)
    return str(value)


def _flag(value: Any) -> str:
    return "true" if value else "false"
