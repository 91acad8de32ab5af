"""One process per account and mode: a lease in the database.

Two ``run --live`` of one strategy started together would both act on the same signal
and both buy. A process that may send orders first takes the lease on a key the caller
derives from what must not be shared (``live:<hash of the API key>``, ``dry:<config>``),
holds it while it trades, and releases it at the end; a second process is refused with
``LeaseHeld`` naming the holder's host, pid and start.

* PostgreSQL: ``pg_try_advisory_lock`` on a stable 64-bit hash of the key, on a
  dedicated connection kept open for the lease's life: the server frees it when the
  process dies.
* MariaDB/MySQL: ``GET_LOCK(name, 0)`` the same way (a hashed name, at most 64 chars).
* SQLite has no such lock: the ``leases`` row is the lease, taken in a ``BEGIN
  IMMEDIATE`` transaction, and a heartbeat (every ttl / 3) pushes its ``expires_at``
  on, so a killed process's lease frees itself after the ttl.

On the servers the ``leases`` row is informational, written so a refused process can
name the holder. The table has its own ``MetaData``: it is created on first use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from .domain import KST
from .errors import LeaseHeld, StoreError
from .ports import Clock
from .store import SqlStore
from .store.connect import (
    SQLITE_IMMEDIATE,
    lost_creation_race,
    mysql_lock_name,
    redact_url,
    stable_key64,
    store_error,
)
from .store.types import UTCDateTime

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(seconds=30)
"""How long an SQLite lease outlives its last heartbeat (server locks need no ttl)."""

DEFAULT_POLL = timedelta(seconds=0.5)
"""How often ``acquire(wait=...)`` asks again."""

_NAMING_WAIT_S = 2.0  # a server lock's winner writes its row just after taking the lock

lease_metadata = MetaData()
leases = Table(
    "leases", lease_metadata,
    Column("lease_key", String(191), primary_key=True),
    Column("holder_host", String(255), nullable=False),
    Column("holder_pid", Integer(), nullable=False),
    Column("holder_token", String(64), nullable=False),
    Column("server_session", BigInteger(), nullable=True),
    Column("since", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    mysql_engine="InnoDB", mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
    mariadb_engine="InnoDB", mariadb_charset="utf8mb4", mariadb_collate="utf8mb4_bin",
)
"""Who holds which lease; on SQLite the lease itself."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as a refused process will name it."""

    host: str
    pid: int
    since: datetime

    @classmethod
    def this_process(cls, clock: Clock) -> Holder:
        return cls(socket.gethostname(), os.getpid(), clock.now())


def live_key(api_key: str) -> str:
    """The lease key of live trading with ``api_key``: a hash, never the key itself."""
    return "live:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def dry_key(config_name: str) -> str:
    """The lease key of a dry run of the strategy ``config_name``."""
    return f"dry:{config_name}"


def held_message(key: str, host: str | None, pid: int | None, since: datetime | None) -> str:
    """The one line a refused process prints."""
    if host is None or pid is None or since is None:
        return f"another process holds the lease on {key} (it has not recorded who it is)"
    when = since.astimezone(KST).isoformat(timespec="seconds")
    return f"another process holds the lease on {key}: host {host}, pid {pid}, since {when}"


@dataclass(frozen=True)
class _Refused:
    row: Row[Any] | None
    session: int | None = None  # the server session holding the lock, when known


class _Hold:
    """What keeps a lease: the SQLite row, or a server lock on a dedicated connection."""

    expires = True

    def __init__(self, engine: Engine, key: str, token: str) -> None:
        self.engine, self.key, self.token = engine, key, token

    def refresh(self, now: datetime, ttl: timedelta) -> bool:
        """Push the row's expiry on; False when the row is no longer ours."""
        with _immediate(self.engine).begin() as conn:
            done = conn.execute(
                update(leases).where(*self._ours()).values(heartbeat_at=now, expires_at=now + ttl)
            )
        return done.rowcount == 1

    def release(self) -> None:
        with _immediate(self.engine).begin() as conn:
            conn.execute(delete(leases).where(*self._ours()))

    def _ours(self) -> tuple[Any, Any]:
        return leases.c.lease_key == self.key, leases.c.holder_token == self.token


class _ServerHold(_Hold):
    expires = False  # the server frees the lock when the session ends, not on a timer

    def __init__(self, engine: Engine, key: str, token: str, conn: Connection, unlock: Any,
                 params: dict[str, Any]) -> None:
        super().__init__(engine, key, token)
        self.conn, self.unlock, self.params = conn, unlock, params

    def refresh(self, now: datetime, ttl: timedelta) -> bool:
        try:
            self.conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            log.warning("lease %s: its database session is gone", self.key)
            return False
        try:
            super().refresh(now, ttl)  # the row is only informational here
        except SQLAlchemyError as exc:
            log.warning("lease %s: could not refresh its row: %s", self.key, exc)
        return True

    def release(self) -> None:
        try:
            super().release()
        finally:
            try:
                self.conn.execute(self.unlock, self.params)
                self.conn.close()
            except SQLAlchemyError:
                self.conn.invalidate()  # a dropped session holds no lock


class Lease:
    """A held lease: check it before sending orders, release it at the end.

    A heartbeat thread (daemon, started by ``LeaseManager.acquire``) refreshes it every
    ttl / 3 off the trading cycle's path; ``check`` raises once it is known lost.
    """

    def __init__(self, hold: _Hold, *, holder: Holder, clock: Clock, ttl: timedelta,
                 on_lost: Callable[[LeaseHeld], None] | None = None) -> None:
        self._hold, self._clock, self._ttl, self._on_lost = hold, clock, ttl, on_lost
        self.holder = holder
        self._valid_until = clock.now() + ttl
        self._lost: LeaseHeld | None = None
        self._released = False
        self._mutex = threading.RLock()  # on_lost may call release from the beat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def key(self) -> str:
        return self._hold.key

    @property
    def held(self) -> bool:
        """True while the lease is ours as far as this process knows."""
        try:
            self.check()
        except LeaseHeld:
            return False
        return True

    def check(self) -> None:
        """Raise ``LeaseHeld`` when the lease was released, lost or has expired."""
        if self._released:
            raise LeaseHeld(f"the lease on {self.key} was released", key=self.key)
        if self._lost is None and self._hold.expires and self._clock.now() >= self._valid_until:
            self._mark_lost("no heartbeat reached the database within the ttl")
        if self._lost is not None:
            raise self._lost

    def heartbeat(self) -> None:
        """Refresh the lease once; a failure is logged and retried at the next beat."""
        with self._mutex:
            if self._released or self._lost is not None:
                return
            now = self._clock.now()
            try:
                ours = self._hold.refresh(now, self._ttl)
            except SQLAlchemyError as exc:
                log.warning("lease %s: heartbeat failed: %s", self.key, exc)
                return
            if ours:
                self._valid_until = now + self._ttl
            else:
                self._mark_lost("another process took it over or the database dropped it")

    def start_heartbeat(self, interval: timedelta | None = None) -> None:
        """Beat every ``interval`` (ttl / 3) on a daemon thread until ``release``."""
        if self._thread is not None:
            return
        seconds = (interval or self._ttl / 3).total_seconds()
        self._thread = threading.Thread(
            target=self._beat, args=(seconds,), name=f"lease {self.key}", daemon=True
        )
        self._thread.start()

    def release(self) -> None:
        """Stop the heartbeat and give the lease up; calling it again does nothing."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._mutex:
            if self._released:
                return
            self._released = True
            try:
                self._hold.release()
            except SQLAlchemyError as exc:  # the row expires or the session's lock dies
                log.warning("lease %s: release failed: %s", self.key, exc)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _beat(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                self.heartbeat()
            except Exception:  # a daemon thread must not die silently
                log.exception("lease %s: heartbeat crashed", self.key)

    def _mark_lost(self, why: str) -> None:
        self._lost = LeaseHeld(f"the lease on {self.key} was lost: {why}", key=self.key)
        log.error("%s", self._lost)
        if self._on_lost is not None:
            self._on_lost(self._lost)


class LeaseManager:
    """Takes leases in one database (a ``SqlStore`` or an engine from ``build_engine``).

    The database must already hold our schema (``open_store`` makes it), so the
    ``leases`` table never makes a fresh database look foreign to ``ensure_schema``.
    """

    def __init__(self, target: SqlStore | Engine, *, clock: Clock, ttl: timedelta = DEFAULT_TTL,
                 poll: timedelta = DEFAULT_POLL,
                 pause: Callable[[float], object] | None = None) -> None:
        """``pause(seconds)`` waits between attempts; a test's advances a manual clock."""
        self._engine = target.engine if isinstance(target, SqlStore) else target
        self._label = (target.label if isinstance(target, SqlStore)
                       else redact_url(self._engine.url))
        self._clock, self._ttl, self._poll = clock, ttl, poll.total_seconds()
        self._pause = pause or threading.Event().wait
        self._table_ready = False

    def acquire(self, key: str, *, wait: timedelta | None = None, holder: Holder | None = None,
                heartbeat: bool = True,
                on_lost: Callable[[LeaseHeld], None] | None = None) -> Lease:
        """Take the lease on ``key``, asking again every ``poll`` for up to ``wait``.

        Args:
            key: what one process at a time may use, e.g. ``live:<hash of api key>``.
            wait: how long to keep trying; None refuses at once.
            holder: how others will name us; this host and pid, since now, by default.
            heartbeat: start the heartbeat thread (tests beat by hand).
            on_lost: called once when the lease is found lost, from the heartbeat
                thread (or from ``check``); e.g. set the run's stop event.

        Raises:
            LeaseHeld: another process held it until the deadline; names the holder.
            StoreError: the database failed, or has no bithumb-trader schema.
        """
        holder = holder or Holder.this_process(self._clock)
        token = secrets.token_hex(16)
        deadline = self._clock.monotonic() + (wait.total_seconds() if wait else 0.0)
        with self._translated(f"taking the lease on {key} in"):
            self._ensure_table()
            while True:
                outcome = self._try(key, holder, token)
                if isinstance(outcome, _Hold):
                    break
                left = deadline - self._clock.monotonic()
                if left <= 0:
                    raise self._refusal(key, outcome)
                self._pause(min(self._poll, left))
        lease = Lease(outcome, holder=holder, clock=self._clock, ttl=self._ttl, on_lost=on_lost)
        if heartbeat:
            lease.start_heartbeat()
        return lease

    def holder_of(self, key: str) -> Row[Any] | None:
        """The ``leases`` row of ``key`` (who holds it, or last held it), if any."""
        with self._translated(f"reading the lease on {key} in"):
            self._ensure_table()
            return self._row(key)

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise store_error(exc, self._label, doing) from exc

    def _ensure_table(self) -> None:
        if self._table_ready:
            return
        names = set(inspect(self._engine).get_table_names())
        if "schema_version" not in names:
            raise StoreError(f"{self._label} has no bithumb-trader schema: open it with "
                             "open_store before taking a lease")
        if leases.name not in names:
            try:
                with _immediate(self._engine).begin() as conn:
                    lease_metadata.create_all(conn, checkfirst=True)
            except SQLAlchemyError as exc:
                if not lost_creation_race(exc):  # another process created it first
                    raise
        self._table_ready = True

    def _try(self, key: str, holder: Holder, token: str) -> _Hold | _Refused:
        if self._engine.dialect.name == "sqlite":
            return self._try_row(key, holder, token)
        return self._try_server(key, holder, token)

    def _values(self, holder: Holder, token: str, session: int | None) -> dict[str, Any]:
        now = self._clock.now()
        return {"holder_host": holder.host, "holder_pid": holder.pid, "holder_token": token,
                "server_session": session, "since": holder.since, "heartbeat_at": now,
                "expires_at": now + self._ttl}

    def _try_row(self, key: str, holder: Holder, token: str) -> _Hold | _Refused:
        with _immediate(self._engine).begin() as conn:
            row = conn.execute(select(leases).where(leases.c.lease_key == key)).first()
            if row is not None and row.expires_at >= self._clock.now():
                return _Refused(row)
            values = self._values(holder, token, None)
            if row is None:
                conn.execute(insert(leases).values(lease_key=key, **values))
            else:  # expired: its holder died or stopped beating
                conn.execute(update(leases).where(leases.c.lease_key == key).values(**values))
        return _Hold(self._engine, key, token)

    def _try_server(self, key: str, holder: Holder, token: str) -> _Hold | _Refused:
        conn = self._engine.connect()
        try:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            lock, unlock, who, params = _server_lock(conn, key)
            if conn.execute(lock, params).scalar() != 1:
                session = conn.execute(who, params).scalar()
                conn.close()
                return _Refused(None, None if session is None else int(session))
            hold = _ServerHold(self._engine, key, token, conn, unlock, params)
            session = _session_id(conn)
            with self._engine.begin() as tx:
                tx.execute(delete(leases).where(leases.c.lease_key == key))
                tx.execute(insert(leases).values(lease_key=key,
                                                 **self._values(holder, token, session)))
        except BaseException:
            conn.invalidate()  # drops any lock this session took
            raise
        return hold

    def _row(self, key: str) -> Row[Any] | None:
        with self._engine.connect() as conn:
            return conn.execute(select(leases).where(leases.c.lease_key == key)).first()

    def _refusal(self, key: str, refused: _Refused) -> LeaseHeld:
        row = refused.row
        if self._engine.dialect.name != "sqlite":  # the winner may not have written it yet
            give_up = self._clock.monotonic() + _NAMING_WAIT_S
            row = self._row(key)
            while (row is None or row.server_session != refused.session) and (
                    self._clock.monotonic() < give_up):
                self._pause(0.05)
                row = self._row(key)
            if row is not None and row.server_session != refused.session:
                row = None
        if row is None:
            return LeaseHeld(held_message(key, None, None, None), key=key)
        return LeaseHeld(held_message(key, row.holder_host, row.holder_pid, row.since),
                         key=key, host=row.holder_host, pid=row.holder_pid, since=row.since)


def _immediate(engine: Engine) -> Engine:
    """``engine`` whose SQLite transactions take the write lock at BEGIN."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{SQLITE_IMMEDIATE: True})


def _server_lock(conn: Connection, key: str) -> tuple[Any, Any, Any, dict[str, Any]]:
    """Statements that lock, unlock and find the holder of ``key``, and their parameters.

    The lock is scoped to the database (MariaDB's are server-wide) and, on PostgreSQL,
    to the schema, like the ``leases`` row that names its holder.
    """
    if conn.dialect.name == "postgresql":
        scope = conn.execute(text("SELECT current_schema()")).scalar()
        lock_id = stable_key64(f"bithumb_trader_lease:{scope}:{key}")
        unsigned = lock_id & 0xFFFF_FFFF_FFFF_FFFF
        params = {"id": lock_id, "hi": unsigned >> 32, "lo": unsigned & 0xFFFF_FFFF}
        who = text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return (text("SELECT pg_try_advisory_lock(:id)::int"),
                text("SELECT pg_advisory_unlock(:id)"), who, params)
    database = conn.execute(text("SELECT DATABASE()")).scalar() or ""
    named = {"name": mysql_lock_name(f"bithumb_trader_lease:{database}:{key}")}
    return (text("SELECT GET_LOCK(:name, 0)"), text("SELECT RELEASE_LOCK(:name)"),
            text("SELECT IS_USED_LOCK(:name)"), named)


def _session_id(conn: Connection) -> int:
    query = "SELECT pg_backend_pid()" if conn.dialect.name == "postgresql" else (
        "SELECT CONNECTION_ID()")
    return int(conn.execute(text(query)).scalar_one())
