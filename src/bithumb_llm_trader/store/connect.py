"""Engines from URLs, with the per-backend settings, and database errors as ``StoreError``.

Every message names the database by its redacted URL (password replaced by ``***``)
and is one line: an operator who typed a wrong host needs the cause, not a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError, StatementError
from sqlalchemy.pool import StaticPool

from ..errors import StoreError
from .types import DecimalSum

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for a database server before calling it unreachable."""

_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd"})
_USERINFO = re.compile(r"(?P<head>://[^:/@]*:)[^@]*(?P<tail>@)")
_DRIVER_HINTS: Mapping[str, str] = MappingProxyType({
    "mysql": "use mysql+pymysql:// and pip install 'bithumb-llm-trader[mariadb]'",
    "mariadb": "use mysql+pymysql:// and pip install 'bithumb-llm-trader[mariadb]'",
    "postgresql": "use postgresql+psycopg:// and pip install 'bithumb-llm-trader[postgres]'",
})


def redact_url(url: str | URL) -> str:
    """``url`` with its password (in the user part or the query) replaced by ``***``."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):
        return _USERINFO.sub(r"\g<head>***\g<tail>", str(url))
    query = {
        key: ("***" if key.lower() in _SECRET_QUERY_KEYS else value)
        for key, value in parsed.query.items()
    }
    rendered = parsed.set(query=query).render_as_string(hide_password=True)
    return rendered.replace("=%2A%2A%2A", "=***")  # the query part comes back escaped


def _secrets(url: URL) -> list[str]:
    values = [url.password] if url.password else []
    for key, value in url.query.items():
        if key.lower() in _SECRET_QUERY_KEYS:
            values.extend([value] if isinstance(value, str) else list(value))
    return [str(v) for v in values if v]


def one_line(exc: BaseException, url: URL | None = None) -> str:
    """The first line of the cause of ``exc``, with any secret of ``url`` scrubbed."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    for secret in _secrets(url) if url is not None else []:
        text = text.replace(secret, "***")
    return text


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
        raise StoreError(f"bad database URL {label}: {one_line(exc)}") from exc
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
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = CONNECT_TIMEOUT_S
    if url.get_backend_name() in ("mysql", "mariadb") and "charset" not in url.query:
        args["charset"] = "utf8mb4"
    return args


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
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()
        dbapi_connection.create_aggregate("dsum", 1, DecimalSum)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: going through exec_driver_sql costs ~40 us per call.
        conn.connection.driver_connection.execute("BEGIN")


def check_connection(engine: Engine, label: str) -> None:
    """Connect once so an unreachable server or unreadable file fails at open, clearly."""
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot connect to {label}: {one_line(exc, engine.url)}") from exc
