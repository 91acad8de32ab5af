"""Engines from URLs, with the per-backend settings, and database errors as ``StoreError``.

Every message names the database by its redacted URL (password replaced by ``***``)
and is one line: an operator who typed a wrong host needs the cause, not a traceback.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.pool import StaticPool

from ..errors import StoreError
from .redaction import redact_url as redact_url  # re-exported: lease, sql_store use it
from .redaction import scrub
from .types import DecimalSum

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for a database server before calling it unreachable."""

SQLITE_IMMEDIATE = "bithumb_sqlite_immediate"
"""Execution option: an SQLite ``engine.begin()`` takes the write lock at once.

``engine.execution_options(**{SQLITE_IMMEDIATE: True})`` makes every transaction of that
engine a ``BEGIN IMMEDIATE``: a read-then-write transaction (a lease take-over, a schema
creation) then waits for a writer in another process instead of failing on a stale
snapshot. Only engines made by ``build_engine`` honour it.
"""

_DRIVER_HINTS: Mapping[str, str] = MappingProxyType({
    "mysql": "use mysql+pymysql:// and pip install 'bithumb-llm-trader[mariadb]'",
    "mariadb": "use mysql+pymysql:// and pip install 'bithumb-llm-trader[mariadb]'",
    "postgresql": "use postgresql+psycopg:// and pip install 'bithumb-llm-trader[postgres]'",
})


def one_line(exc: BaseException, url: str | URL | None = None) -> str:
    """The first line of the cause of ``exc``, with ``url`` and its secrets scrubbed.

    Scrubbed before it is cut, so a URL the driver wrapped over two lines is still seen.
    """
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    text = scrub(str(cause), url).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def store_error(exc: BaseException, label: str, doing: str, url: URL | None = None) -> StoreError:
    """Translate a driver or SQLAlchemy error into a one-line ``StoreError``.

    A ``StoreError`` raised by our own column types inside SQLAlchemy comes back wrapped
    in ``StatementError``; it is unwrapped so its message is not buried.
    """
    if isinstance(exc, StatementError) and isinstance(exc.orig, StoreError):
        return exc.orig
    if isinstance(exc, StoreError):
        return exc
    return StoreError(f"{doing} {label} failed: {one_line(exc, url)}")


def build_engine(url: str) -> Engine:
    """An engine for ``url`` with our settings; makes no connection except for SQLite dirs.

    Raises:
        StoreError: a malformed URL, an unknown backend, a missing driver, or an SQLite
            directory that cannot be created.
    """
    label = redact_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"bad database URL {label}: {one_line(exc, url)}") from exc
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed, label)
        return create_engine(parsed, pool_pre_ping=True, connect_args=_server_args(parsed))
    except (NoSuchModuleError, ImportError) as exc:
        hint = _DRIVER_HINTS.get(backend, "check the URL's backend and driver")
        raise StoreError(
            f"cannot open {label}: the database driver is missing or unknown "
            f"({one_line(exc, parsed)}); {hint}"
        ) from exc
    except (ArgumentError, TypeError) as exc:
        raise StoreError(f"bad database URL {label}: {one_line(exc, parsed)}") from exc


def _server_args(url: URL) -> dict[str, Any]:
    """Connection settings a URL does not give itself: how long to wait, and the charset."""
    args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
    if url.get_backend_name() in ("mysql", "mariadb"):
        # PyMySQL waits on a silent socket forever unless told otherwise.
        args.update(charset="utf8mb4", read_timeout=SERVER_SILENCE_S,
                    write_timeout=SERVER_SILENCE_S)
    elif url.get_backend_name() == "postgresql":
        # libpq has no read timeout; TCP keepalives notice a server or a network that
        # went away (a dead peer never answers) within a minute of silence. Options
        # libpq has had since 9.0, unlike tcp_user_timeout (12), which an old client
        # library would refuse.
        args.update(keepalives=1, keepalives_idle=30, keepalives_interval=10,
                    keepalives_count=3)
    return {name: value for name, value in args.items() if name not in url.query}


def sqlite_path(url: URL) -> Path | None:
    """The file behind an SQLite URL (relative to the working directory), None in memory."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):
        database = database[len("file:"):].split("?", 1)[0]
    return Path(database)


def _sqlite_engine(url: URL, label: str) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the directory of {label}: {exc.strerror or exc}"
            ) from exc
    if path is None:  # one shared connection, or each thread would see its own empty DB
        engine = create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(url)
    _configure_sqlite(engine, wal=path is not None)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    """Pragmas, the exact ``dsum`` aggregate, and real transactions on every connection.

    pysqlite only opens a transaction before DML, so a read-then-write method or a
    CREATE TABLE would run outside it; emitting BEGIN ourselves (SQLAlchemy's documented
    recipe) makes every ``engine.begin()`` block atomic, DDL included.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                _use_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()
        dbapi_connection.create_aggregate("dsum", 1, DecimalSum)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: going through exec_driver_sql costs ~40 us per call.
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL, tolerating another process that is switching it too.

    Two first opens of a new file race on the switch, which needs an exclusive lock and
    fails at once with "database is locked" instead of waiting; the mode is stored in the
    file, so when the winner has switched it there is nothing left to do. Under load the
    winner may take a while: ask again, briefly, for up to ``WAL_SWITCH_WAIT_S``. (A real
    sleep: this is the driver's connect hook, below the injected clock, waiting on a file.)
    """
    deadline = time.monotonic() + WAL_SWITCH_WAIT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            mode = None
        if mode and str(mode[0]).lower() == "wal":
            return
        time.sleep(0.02)


WAL_SWITCH_WAIT_S = 10.0


def check_connection(engine: Engine, label: str) -> None:
    """Connect once so an unreachable server or unreadable file fails at open, clearly."""
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot connect to {label}: {one_line(exc, engine.url)}") from exc
    except TypeError as exc:  # a query parameter the driver does not take (``?bad=1``)
        raise StoreError(f"bad database URL {label}: {one_line(exc, engine.url)}") from exc


_MYSQL_UNREACHABLE = frozenset({2002, 2003, 2005, 2006, 2013})
"""MySQL client codes for no server at all: socket and TCP connect failures, unknown
host, server gone or lost during the handshake (not 1045 access denied, 1049 unknown
database, 1040 too many connections: a server answered those)."""

_PG_UNREACHABLE_WORDS = (
    "connection refused", "timeout expired", "failed to resolve host",
    "could not translate host name", "name or service not known",
    "temporary failure in name resolution", "no route to host", "network is unreachable",
    "connection timed out", "no such file or directory", "connection reset",
    "server closed the connection unexpectedly",
)
"""libpq's words for a connection that never reached a server. libpq gives them no
SQLSTATE; a server's own refusal (bad password, missing database) reads ``FATAL:``."""


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` (or what it was raised from) says no database server answered.

    Tells a dry run it may record elsewhere: a refused or timed-out connection, an unknown
    host, a missing socket. A server that answered and refused (login, database name,
    schema, a foreign database) is not unreachable: that is a mistake to fix, not to
    route around. SQLite files are never unreachable, only unreadable.
    """
    seen: BaseException | None = error
    for _ in range(8):  # a cause chain is short; a cycle must not loop forever
        if seen is None:
            return False
        orig = seen.orig if isinstance(seen, DBAPIError) and seen.orig is not None else seen
        driver = type(orig).__module__.split(".")[0]
        if driver in ("pymysql", "MySQLdb"):
            code = orig.args[0] if orig.args else None
            return code in _MYSQL_UNREACHABLE
        if driver in ("psycopg", "psycopg2"):
            message = str(orig).lower()
            return "fatal:" not in message and any(w in message for w in _PG_UNREACHABLE_WORDS)
        seen = seen.__cause__
    return False


SCHEMA_LOCK_NAME = "bithumb_trader_schema"
"""What the cross-process schema lock is called (hashed into a key on PostgreSQL)."""

SCHEMA_LOCK_TIMEOUT_S = 60
"""Seconds to wait for another process that is creating or upgrading the schema."""

SERVER_SILENCE_S = SCHEMA_LOCK_TIMEOUT_S + 30
"""Seconds a database server may stay silent in the middle of a statement before it
fails: longer than the longest wait asked of a server (the schema lock), and not
forever, which is what a hung server or a dropped network would otherwise cost a cycle
(with its lease and maybe an order in flight). MariaDB/MySQL's read and write timeouts;
PostgreSQL relies on TCP keepalives instead (see ``_server_args``). A URL's own setting
wins."""

_MYSQL_LOCK_NAME_MAX = 64
_MYSQL_RACE_CODES = frozenset({1050, 1061, 1062, 1826})  # exists: table, key name, entry, FK
_PG_RACE_STATES = frozenset({"42P06", "42P07", "42710", "23505"})  # duplicate schema, table,
# object; unique violation (two CREATE TABLEs racing on pg_type's unique index)
_RACE_WORDS = ("already exists", "unique constraint failed", "database is locked")


def stable_key64(name: str) -> int:
    """A signed 64-bit integer from ``name``, the same in every process and Python run.

    PostgreSQL advisory locks take a ``bigint``; Python's ``hash`` is salted per process.
    """
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def mysql_lock_name(name: str) -> str:
    """``name`` as a MariaDB/MySQL ``GET_LOCK`` name: kept when short, else hashed to fit."""
    if len(name) <= _MYSQL_LOCK_NAME_MAX:
        return name
    return "bt:" + hashlib.sha256(name.encode()).hexdigest()[:_MYSQL_LOCK_NAME_MAX - 3]


def lost_creation_race(exc: BaseException) -> bool:
    """Whether ``exc`` says another process created the same table, type or row first.

    Covers MariaDB 1050 ``Table ... already exists``, PostgreSQL's duplicate-object states
    and its ``pg_type_typname_nsp_index`` unique violation, and SQLite's "already exists",
    "UNIQUE constraint failed" and a stale-snapshot "database is locked".
    """
    orig = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in _PG_RACE_STATES
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in _MYSQL_RACE_CODES
    message = str(orig).lower()
    return any(words in message for words in _RACE_WORDS)


@contextmanager
def schema_lock(
    engine: Engine, label: str, *, timeout_s: int = SCHEMA_LOCK_TIMEOUT_S
) -> Iterator[Engine]:
    """Hold the cross-process schema lock of ``engine``'s database; yield the engine to use.

    Two first runs on an empty server database would otherwise both see no tables and
    both create them, and the slower one fail. PostgreSQL takes a session advisory lock
    (per database), MariaDB/MySQL a ``GET_LOCK`` named after the database (its locks are
    server-wide), each on a dedicated connection while the schema work runs on others.
    SQLite has no such lock: the yielded engine begins every transaction IMMEDIATE, and
    the caller tolerates what a racing creator leaves (see ``lost_creation_race``).

    Raises:
        StoreError: the lock was not granted within ``timeout_s``.
    """
    backend = engine.dialect.name
    if backend == "sqlite":
        yield engine.execution_options(**{SQLITE_IMMEDIATE: True})
        return
    if backend not in ("postgresql", "mysql", "mariadb"):
        yield engine
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        unlock = _lock_schema(conn, backend, label, timeout_s)
        try:
            yield engine
        finally:
            try:
                conn.execute(unlock[0], unlock[1])
            except SQLAlchemyError:
                conn.invalidate()  # a dropped session has released its locks anyway


def _lock_schema(
    conn: Connection, backend: str, label: str, timeout_s: int
) -> tuple[Any, dict[str, Any]]:
    """Take the schema lock on ``conn``; the statement and parameters that release it."""
    waited = (
        f"another process kept the schema of {label} locked for {timeout_s} s "
        "while creating or upgrading it; try again, or look for a stuck bithumb-trader"
    )
    if backend == "postgresql":
        key = {"key": stable_key64(SCHEMA_LOCK_NAME)}
        conn.execute(text("SELECT set_config('lock_timeout', :ms, false)"),
                     {"ms": f"{timeout_s * 1000}"})
        try:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
        except SQLAlchemyError as exc:
            if getattr(getattr(exc, "orig", None), "sqlstate", None) == "55P03":  # timed out
                raise StoreError(waited) from exc
            raise
        finally:
            conn.execute(text("RESET lock_timeout"))
        return text("SELECT pg_advisory_unlock(:key)"), key
    database = conn.execute(text("SELECT DATABASE()")).scalar() or ""
    name = {"name": mysql_lock_name(f"{SCHEMA_LOCK_NAME}:{database}")}
    got = conn.execute(text("SELECT GET_LOCK(:name, :timeout)"),
                       {**name, "timeout": timeout_s}).scalar()
    if got != 1:
        raise StoreError(waited)
    return text("SELECT RELEASE_LOCK(:name)"), name
