"""A cycle's writes, held in memory until ``SqlStore`` applies them in one transaction.

A cycle used to commit a dozen small transactions, one per step and per order change,
and a third of its time went to them. While ``SqlStore.cycle_writes`` is open its writes
land here instead, as statements to run later in order, and the store applies them all
in one transaction when the cycle ends, or earlier when something must be on disk first
(an order's ``pending`` row before it is sent) or a read needs what is held.

Reads that every cycle makes are answered with what is held laid over the database
(``first_equity_since`` sees this cycle's own run row, ``load_guard`` a guard saved or
cleared a step earlier, ``cache_get`` a decision cached this cycle); the rarer reads of
orders, fills, paper state or TWAP runs write what is held first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from ..records import PositionGuardRecord, RunRecord

Statement = Callable[[Connection], None]
"""One held write: runs on the connection of the transaction that applies them all."""

GuardKey = tuple[str, str, str]
"""A position guard's natural key: strategy, market, mode."""


@dataclass(slots=True, eq=False)
class PendingWrites:
    """What one cycle has written and not yet committed.

    Attributes:
        runs: run rows inserted this cycle, with their updates folded in; inserted first.
        statements: every other write, in the order it was made.
        run_updates: changes to runs already on disk, merged per run; applied last.
        guards: the last guard saved (or ``None``: cleared) per key, for ``load_guard``.
        cache: decision-cache entries put this cycle, for ``cache_get``.
        orders: an order or fill is held (reads of orders and fills write first).
        twap: a TWAP run or slice is held.
        paper: strategies whose paper state is held.
        closed: the cycle ended; a task that outlived it writes straight through.
    """

    runs: dict[str, RunRecord] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)
    run_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    guards: dict[GuardKey, PositionGuardRecord | None] = field(default_factory=dict)
    cache: dict[str, str] = field(default_factory=dict)
    orders: bool = False
    twap: bool = False
    paper: set[str] = field(default_factory=set)
    closed: bool = False

    def __bool__(self) -> bool:
        return bool(self.runs or self.statements or self.run_updates)

    def update_run(self, run_id: str, values: dict[str, Any]) -> None:
        """Fold ``values`` into the held run row, or hold them for the stored one."""
        run = self.runs.get(run_id)
        if run is not None:
            self.runs[run_id] = replace(run, **values)
        else:
            self.run_updates.setdefault(run_id, {}).update(values)

    def first_equity(self, strategy: str, since: datetime, mode: str) -> Decimal | None:
        """The equity of the earliest held run that ``first_equity_since`` would find."""
        found = [
            (run.started_at, run.run_id, run.total_equity_krw)
            for run in self.runs.values()
            if run.strategy == strategy and run.mode == mode and run.started_at >= since
            and run.total_equity_krw is not None
        ]
        return min(found)[2] if found else None

    def clear(self) -> None:
        """Forget what was held: it is committed."""
        self.runs.clear()
        self.statements.clear()
        self.run_updates.clear()
        self.guards.clear()
        self.cache.clear()
        self.orders = self.twap = False
        self.paper.clear()


__all__ = ["GuardKey", "PendingWrites", "Statement"]
