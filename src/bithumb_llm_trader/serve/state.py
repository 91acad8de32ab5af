"""What the app keeps between requests: the read-only database, the settings, the clock,
which strategies ran in which modes, and recent report answers.

``cron_runs`` has no index on its mode, so "which modes has this strategy run in" would
scan the whole table on every request. ``RunPairs`` answers it from memory instead: one
grouped scan when the app starts, then, on SQLite, only the rows inserted since (their
rowids grow); on a server database the scan is repeated at most every ``ttl``. The
report of a period is cached the same way: a whole-history report reads every row, and
a dashboard polling every few seconds must not repeat that while nothing changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from ..ports import Clock
from ..records import PORTFOLIO_MARKET
from ..report import ReportSource
from ..report.browse import run_pairs_stmt
from ..store import schema as s
from ..store.types import UTCDateTime
from .settings import ServeSettings

PAIRS_TTL_S = 30.0
"""How stale the strategy/mode index may get on a server database."""
REPORT_TTL_S = 10.0
"""How long a report answer is reused while no new run has started."""
REPORT_CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class Pair:
    """A strategy in one mode: its market and when its newest run started."""

    strategy: str
    mode: str
    market: str
    latest: datetime


class RunPairs:
    """Which (strategy, mode) pairs have runs, and the newest run of each."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], Pair] = {}
        self._rowid: int | None = None
        self._read_at: float | None = None

    def get(self, conn: Connection) -> list[Pair]:
        """The pairs, by strategy then mode, brought up to date first."""
        with self._lock:
            self._refresh(conn)
            return [self._pairs[key] for key in sorted(self._pairs)]

    def portfolios(self, conn: Connection) -> frozenset[str]:
        return frozenset(p.strategy for p in self.get(conn) if p.market == PORTFOLIO_MARKET)

    def _refresh(self, conn: Connection) -> None:
        sqlite = conn.dialect.name == "sqlite"
        now = self._clock.monotonic()
        if not sqlite and self._read_at is not None and now - self._read_at < PAIRS_TTL_S:
            return
        if sqlite:
            rows = conn.execute(run_pairs_stmt(self._rowid if self._rowid is not None else -1))
        else:
            self._pairs = {}
            rows = conn.execute(run_pairs_stmt(None))
        for strategy, mode, market, latest, *rowid in rows:
            at = _aware(latest)
            known = self._pairs.get((strategy, mode))
            if known is None or at >= known.latest:
                self._pairs[(strategy, mode)] = Pair(strategy, mode, market, at)
            if rowid and rowid[0] is not None:
                self._rowid = max(self._rowid or 0, int(rowid[0]))
        self._read_at = now


def _aware(value: Any) -> datetime:
    """A ``MAX(started_at)``: text on SQLite, a naive UTC datetime on the servers."""
    result = UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]
    assert result is not None
    return result


@dataclass
class _Cached:
    value: Any
    fingerprint: Hashable
    at: float


@dataclass
class AnswerCache:
    """A few recent answers, reused while the database's fingerprint is unchanged and
    for at most ``ttl`` seconds."""

    clock: Clock
    ttl: float = REPORT_TTL_S
    size: int = REPORT_CACHE_SIZE
    _items: OrderedDict[Hashable, _Cached] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, fingerprint: Hashable, make: Callable[[], Any]) -> Any:
        now = self.clock.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit.fingerprint == fingerprint and now - hit.at < self.ttl:
                self._items.move_to_end(key)
                return hit.value
        value = make()
        with self._lock:
            self._items[key] = _Cached(value, fingerprint, now)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def fingerprint(conn: Connection) -> Hashable:
    """What changes when a trader writes: the newest run, the TWAPs and the fills.

    Each is an index-only read (the newest start time, two counts).
    """
    runs, twaps, fills = s.cron_runs, s.twap_runs, s.fills
    newest = conn.execute(select(func.max(runs.c.started_at))).scalar()
    twap_count = conn.execute(select(func.count()).select_from(twaps)).scalar()
    fill_count = conn.execute(select(func.count()).select_from(fills)).scalar()
    return (str(newest), twap_count, fill_count)


@dataclass
class ServeState:
    """Everything a request handler reads; one per app."""

    settings: ServeSettings
    source: ReportSource
    clock: Clock
    pairs: RunPairs
    reports: AnswerCache

    @classmethod
    def build(cls, settings: ServeSettings, source: ReportSource, clock: Clock) -> ServeState:
        return cls(settings=settings, source=source, clock=clock, pairs=RunPairs(clock),
                   reports=AnswerCache(clock))

    def connect(self) -> Connection:
        """A read-only connection whose one transaction sees one state of the database."""
        return self.source.snapshot()
