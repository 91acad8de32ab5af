"""Upgrade steps between schema versions, each run inside one transaction.

v1 -> v2: the run's mode (dry, live, backtest) on every row that state is read back
from, so that nothing deciding for one mode reads another's rows. ``orders``,
``fills``, ``llm_executions`` and ``twap_runs`` gain a ``mode`` column, filled from
``cron_runs.mode`` through the run id where the run is known, else from ``dry_run``;
``position_guards`` is rebuilt with ``mode`` in its key (a guard's run says its mode).

v2 -> v3: the exact record of model requests (issue 18). ``llm_decision_requests`` gains
``shadow``, ``server_kind``, ``messages_json``, ``prompt_candles``, ``candles_dropped``,
``estimated_tokens`` and ``context_tokens``; ``llm_signals`` gains ``shadow``,
``http_json`` and ``tokens_estimated``. Old rows are primary decisions (``shadow``
false) whose messages were not kept (NULL).
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from .schema import llm_decision_requests, llm_signals, position_guards

_WITH_MODE = ("orders", "fills", "llm_executions", "twap_runs")


def v1_to_v2(conn: Connection) -> None:
    """Add ``mode`` where v2 reads it; see the module docstring."""
    quote = conn.dialect.identifier_preparer.quote
    for table in _WITH_MODE:
        name = quote(table)
        conn.execute(text(
            f"ALTER TABLE {name} ADD COLUMN mode VARCHAR(32) NOT NULL DEFAULT 'dry'"))
        conn.execute(text(f"UPDATE {name} SET mode = 'live' WHERE dry_run = :live"),
                     {"live": False})
        if table != "twap_runs":
            conn.execute(text(
                f"UPDATE {name} SET mode = 'backtest' WHERE run_id IN "
                "(SELECT run_id FROM cron_runs WHERE mode = 'backtest')"))
    _rebuild_guards(conn)


def _rebuild_guards(conn: Connection) -> None:
    rows = conn.execute(text(
        "SELECT g.strategy, g.market, g.stop_loss_price, g.take_profit_price, "
        "g.entry_price, g.run_id, g.updated_at, r.mode "
        "FROM position_guards g LEFT JOIN cron_runs r ON r.run_id = g.run_id"
    )).mappings().all()
    if "position_guards" in inspect(conn).get_table_names():
        conn.execute(text("DROP TABLE position_guards"))
    position_guards.create(conn)
    if rows:
        conn.execute(text(
            "INSERT INTO position_guards (strategy, market, mode, stop_loss_price, "
            "take_profit_price, entry_price, run_id, updated_at) VALUES (:strategy, "
            ":market, :mode, :stop_loss_price, :take_profit_price, :entry_price, :run_id, "
            ":updated_at)"),
            [{**row, "mode": row["mode"] or "dry"} for row in rows])


V3_COLUMNS = {
    "llm_decision_requests": ("shadow", "server_kind", "messages_json", "prompt_candles",
                              "candles_dropped", "estimated_tokens", "context_tokens"),
    "llm_signals": ("shadow", "http_json", "tokens_estimated"),
}
"""The columns v3 added, by table."""


def v2_to_v3(conn: Connection) -> None:
    """Add the request-record columns; see the module docstring."""
    quote = conn.dialect.identifier_preparer.quote
    for table in (llm_decision_requests, llm_signals):
        for name in V3_COLUMNS[table.name]:
            column = table.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            if column.nullable:
                tail = ""
            elif kind.upper().startswith(("BOOL", "TINYINT")):
                tail = " NOT NULL DEFAULT FALSE"
            else:
                tail = " NOT NULL DEFAULT 0"
            conn.execute(text(
                f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} {kind}{tail}"))
