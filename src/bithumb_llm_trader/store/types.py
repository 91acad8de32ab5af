"""Column types that keep money exact and time in UTC on SQLite, MariaDB and PostgreSQL.

Why each one exists:

* ``ExactDecimal``: SQLite has no decimal type; a NUMERIC or REAL column would turn
  ``0.1`` into a binary float. So SQLite stores canonical plain text and the servers
  store ``DECIMAL(38, 18)``. Every backend refuses the same values (anything that does
  not fit 20 integer digits and 18 decimals, NaN, infinities, floats) so a strategy that
  runs on SQLite cannot start failing, or worse rounding, when moved to a server.
* ``UTCDateTime``: the servers' plain DATETIME/TIMESTAMP have no zone; we store naive
  UTC and hand back aware UTC, and refuse naive input whose zone would be a guess.
* ``JSONText``: payloads as deterministic JSON text (sorted keys, Decimals as strings)
  so rows can be compared and diffed, and no backend's JSON type rounds numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from enum import Enum
from typing import Any

from sqlalchemy import DateTime, Numeric, Text, func
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..errors import StoreError

UTC = timezone.utc

DECIMAL_PRECISION = 38
"""Total significant digits the servers keep: DECIMAL(38, 18)."""
DECIMAL_SCALE = 18
"""Decimal places kept exactly; more (other than trailing zeros) is refused."""
MAX_INTEGER_DIGITS = DECIMAL_PRECISION - DECIMAL_SCALE
"""20 integer digits: up to 99,999,999,999,999,999,999.999999999999999999."""

_MYSQL_NAMES = frozenset({"mysql", "mariadb"})


def plain_decimal_text(value: Decimal) -> str:
    """``value`` in plain notation without trailing fractional zeros: ``1.50E+2`` -> ``150``.

    Works on the digits, not through a context, so 38 significant digits stay exact.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def canonical_decimal(value: object) -> str:
    """Check that ``value`` fits every backend exactly and return its plain text.

    Raises:
        StoreError: a float (already inexact), NaN or infinity, or a number needing
            more than 20 integer digits or 18 decimal places; rounding it would
            silently change money.
    """
    if type(value) is not Decimal:  # a Decimal, the common case, needs no copy
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
            raise StoreError(
                f"refusing to store {type(value).__name__} {value!r} as money: "
                "use Decimal or int"
            )
        value = Decimal(value)
    if not value.is_finite():
        raise StoreError(f"refusing to store {value}: money must be finite")
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise StoreError(
            f"cannot store {value} exactly: more than {MAX_INTEGER_DIGITS} integer digits"
        )
    text = plain_decimal_text(value)
    point = text.find(".")
    if point >= 0 and len(text) - point - 1 > DECIMAL_SCALE:
        raise StoreError(
            f"cannot store {value} exactly: more than {DECIMAL_SCALE} decimal places; "
            "round it first"
        )
    return text


def decimal_from_db(value: object) -> Decimal | None:
    """Turn what a driver returns (text, Decimal, int) into a Decimal without exponent."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, (str, int)):
        number = Decimal(value)
    elif isinstance(value, float):  # only from a foreign writer; repr is the shortest exact
        number = Decimal(repr(value))
    else:
        raise StoreError(f"unexpected money value from the database: {value!r}")
    return Decimal(plain_decimal_text(number))


class ExactDecimal(TypeDecorator[Decimal]):
    """Exact money: DECIMAL(38, 18) on servers, canonical TEXT on SQLite."""

    impl = Numeric
    cache_ok = True

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(
            Numeric(DECIMAL_PRECISION, DECIMAL_SCALE, asdecimal=True)
        )

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = canonical_decimal(value)
        return text if dialect.name == "sqlite" else Decimal(text)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return decimal_from_db(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; naive UTC (microseconds kept) in the column."""

    impl = DateTime
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in _MYSQL_NAMES:  # plain DATETIME would drop the microseconds
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise StoreError(f"expected a datetime, got {type(value).__name__} {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise StoreError(f"refusing naive datetime {value.isoformat()}: give it a timezone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # an aggregate over SQLite text
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise StoreError(f"unexpected datetime value from the database: {value!r}")
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return value.replace(tzinfo=UTC)


def long_text() -> TypeEngine[str]:
    """TEXT, but MEDIUMTEXT (16 MB) on MariaDB, whose TEXT stops at 64 KB."""
    return Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value) if not value.is_finite() else plain_decimal_text(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Built once: json.dumps with options builds a new encoder on every call.
_JSON = json.JSONEncoder(
    default=_json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False,
)


def dump_json(value: object) -> str:
    """Deterministic JSON: sorted keys, compact, Decimals as plain strings, ISO datetimes.

    Raises:
        StoreError: something in the payload has no JSON form.
    """
    try:
        return _JSON.encode(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store JSON payload: {exc}") from exc


def load_json(text: str) -> Any:
    """Parse stored JSON; numbers with a fraction come back as Decimal, never float."""
    return json.loads(text, parse_float=Decimal)


class JSONText(TypeDecorator[Any]):
    """A JSON payload in a TEXT column (``*_json``); see ``dump_json`` for the format.

    Decimals are written as strings, so a payload read back holds ``"1.5"`` where the
    writer had ``Decimal("1.5")``; ``Decimal(text)`` restores it exactly.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in _MYSQL_NAMES:
            return dialect.type_descriptor(mysql.MEDIUMTEXT())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dump_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else load_json(value)


class DecimalSum:
    """SQLite aggregate ``dsum(x)``: an exact Decimal sum returned as plain TEXT.

    SQLite's own ``sum`` works in floats, which would make report totals inexact.
    NULLs are skipped; no non-NULL input gives NULL, like SQL ``SUM``.
    """

    def __init__(self) -> None:
        # Wide enough that no realistic sum of DECIMAL(38, 18) values rounds; if one
        # would, Inexact is trapped and the query fails instead of lying.
        self._context = Context(prec=400, traps=[Inexact, Rounded, InvalidOperation, Overflow])
        self._total: Decimal | None = None

    def step(self, value: object) -> None:
        # Stored money is canonical text, which Decimal reads exactly: skip the
        # normalising round trip of decimal_from_db for it (a report sums 10^5 rows).
        number = Decimal(value) if isinstance(value, str) else decimal_from_db(value)
        if number is None:
            return
        self._total = number if self._total is None else self._context.add(self._total, number)

    def finalize(self) -> str | None:
        return None if self._total is None else plain_decimal_text(self._total)


def money_sum(column: ColumnElement[Any], dialect_name: str) -> ColumnElement[Decimal]:
    """``SUM(column)`` that stays exact: ``dsum`` on SQLite, the native ``SUM`` elsewhere."""
    summer: Callable[..., ColumnElement[Any]] = func.dsum if dialect_name == "sqlite" else func.sum
    result: ColumnElement[Decimal] = summer(column, type_=ExactDecimal())
    return result


def bulk_bind_processor(
    column_type: TypeEngine[Any], dialect: Dialect
) -> Callable[[Any], Any] | None:
    """What SQLAlchemy's bind processor for ``column_type`` gives, for batched inserts.

    On SQLite the money and JSON columns skip ``TypeDecorator``'s wrapper (their TEXT
    needs no further conversion), and datetimes are remembered per value: a cycle's
    rows share a handful of instants. Tests hold the outputs equal to SQLAlchemy's.
    """
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if dialect.name == "sqlite" and isinstance(column_type, ExactDecimal):
        return _sqlite_money
    if dialect.name == "sqlite" and isinstance(column_type, JSONText):
        return _sqlite_json
    if isinstance(column_type, UTCDateTime) and process is not None:
        # One memory per dialect, shared by every datetime column: a cycle stamps its
        # rows in several tables with the same instant.
        key = (dialect.name, dialect.driver)
        remembered = _datetime_processors.get(key)
        if remembered is None:
            remembered = _datetime_processors[key] = _remembered_datetimes(process)
        return remembered
    return process


_datetime_processors: dict[tuple[str, str], Callable[[Any], Any]] = {}
_MEMO_SIZE = 4096
"""Datetimes remembered by the batched insert path before it starts over."""


def _sqlite_money(value: Any) -> str | None:
    return None if value is None else canonical_decimal(value)


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else dump_json(value)


def _remembered_datetimes(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    memo: dict[datetime, Any] = {}

    def remembered(value: Any) -> Any:
        # Only exact aware datetimes are looked up: a naive one must still be refused.
        if type(value) is not datetime or value.tzinfo is None:
            return process(value)
        converted = memo.get(value)
        if converted is None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            converted = memo[value] = process(value)
        return converted

    return remembered
