"""The database: SQLAlchemy Core tables and the ``ports.Store`` implementation.

SQLite by default (``sqlite:///bithumb_trader.db``, relative to the working directory),
MariaDB/MySQL by ``mysql+pymysql://...`` and PostgreSQL by ``postgresql+psycopg://...``.
Money stays exact on all three (see ``types``). ``open_store`` is the one entry point:
it connects, creates or checks the schema, and turns every failure into a one-line
``StoreError`` that names the URL with its password hidden.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from ..clock import SystemClock
from ..errors import StoreError
from ..ports import Clock
from .connect import build_engine, check_connection, is_unreachable, store_error
from .migrate import UPGRADE_STEPS, UpgradeStep, ensure_schema, ensure_schema_locked
from .queries import FINAL_ORDER_STATES
from .redaction import redact_url
from .schema import SCHEMA_VERSION, metadata
from .sql_store import SqlStore
from .types import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    ExactDecimal,
    JSONText,
    UTCDateTime,
    money_sum,
)


def open_store(url: str, *, clock: Clock | None = None) -> SqlStore:
    """Open the database at ``url``, creating or checking its schema.

    Args:
        url: an SQLAlchemy URL; an SQLite file's directory is created when missing.
        clock: stamps cache entries and schema versions; the system clock by default.

    Raises:
        StoreError: a bad URL, a missing driver, an unreachable server (``is_unreachable``
            tells it apart), a permission problem, a foreign database or a schema newer
            than this code.
    """
    clock = clock or SystemClock()
    label = redact_url(url)
    engine = build_engine(url)
    try:
        check_connection(engine, label)
        ensure_schema_locked(engine, clock=clock, label=label)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise store_error(exc, label, "preparing the schema of", engine.url) from exc
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine, clock=clock, label=label)


__all__ = [
    "DECIMAL_PRECISION",
    "DECIMAL_SCALE",
    "FINAL_ORDER_STATES",
    "SCHEMA_VERSION",
    "UPGRADE_STEPS",
    "ExactDecimal",
    "JSONText",
    "SqlStore",
    "StoreError",
    "UTCDateTime",
    "UpgradeStep",
    "ensure_schema",
    "is_unreachable",
    "metadata",
    "money_sum",
    "open_store",
    "redact_url",
]
