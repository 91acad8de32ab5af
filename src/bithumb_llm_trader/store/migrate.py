"""Bring a database to our schema on open, or refuse it without touching it.

Decisions, by what the database holds:

* nothing: create every table and record ``SCHEMA_VERSION``;
* our tables at the current version: nothing to do;
* an older version: run the registered upgrade steps in order, each in its own
  transaction together with the version it reaches;
* a newer version: refuse, since an old tool writing rows a newer schema does not
  expect would corrupt them;
* tables but no ``schema_version``: another tool's database (perhaps an older bot whose
  ``cron_runs`` look nothing like ours); refuse and list what is there.

``schema_version`` is created before the other tables, so a creation interrupted on
MariaDB (whose DDL commits one statement at a time) leaves an empty version table next to
some of our tables, and the next open finishes the job instead of calling it foreign.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType

from sqlalchemy import Connection, Engine, func, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from ..ports import Clock
from .connect import lost_creation_race, schema_lock
from .schema import SCHEMA_VERSION, metadata, schema_version
from .upgrades import v1_to_v2, v2_to_v3

UpgradeStep = Callable[[Connection], None]
"""Changes a database from version N to N + 1 inside the transaction it is given."""

UPGRADE_STEPS: Mapping[int, UpgradeStep] = MappingProxyType({1: v1_to_v2, 2: v2_to_v3})
"""Upgrade steps keyed by the version they start from (``upgrades``)."""

_LISTED_TABLES = 12


def ensure_schema(
    engine: Engine,
    *,
    clock: Clock,
    label: str,
    target: int = SCHEMA_VERSION,
    steps: Mapping[int, UpgradeStep] = UPGRADE_STEPS,
) -> int:
    """Create, check or upgrade the schema of ``engine``'s database; return its version.

    Args:
        engine: the database.
        clock: stamps ``schema_version.applied_at``.
        label: the redacted URL, for messages.
        target: the version this code expects (tests raise it to exercise upgrades).
        steps: upgrade steps keyed by from-version.

    Raises:
        StoreError: a foreign database, a newer schema, or a missing upgrade step.
    """
    names = set(inspect(engine).get_table_names())
    if not names:
        _create(engine, clock, target)
        return target
    if schema_version.name not in names:
        raise StoreError(
            f"{label} is not a bithumb-trader database (found tables: {_listing(names)}); "
            "point --db at an empty or bithumb-trader database"
        )
    found = current_version(engine)
    if found is None:
        _resume_creation(engine, clock, label, names, target)
        return target
    if found > target:
        raise StoreError(
            f"database schema v{found} is newer than this bithumb-trader (v{target}); "
            f"upgrade the tool ({label})"
        )
    if found < target:
        _upgrade(engine, clock, label, found, target, steps)
    return target


_RACE_ATTEMPTS = 3


def ensure_schema_locked(engine: Engine, *, clock: Clock, label: str) -> int:
    """``ensure_schema`` under the cross-process schema lock, tolerating a racing creator.

    Two first runs on one empty database would both create the tables, and the slower
    fail (MariaDB 1050, PostgreSQL's ``pg_type`` unique violation). The lock serialises
    them on the servers; on SQLite, and against a process without the lock, an "already
    exists" error means the work is done or under way, so the state is inspected again.

    Raises:
        StoreError: as ``ensure_schema``, or the lock was not granted in time.
    """
    attempt = 1
    while True:
        try:
            with schema_lock(engine, label) as locked:
                return ensure_schema(locked, clock=clock, label=label)
        except SQLAlchemyError as exc:
            if attempt >= _RACE_ATTEMPTS or not lost_creation_race(exc):
                raise
            attempt += 1


def current_version(engine: Engine) -> int | None:
    """The highest version recorded, or None when ``schema_version`` is empty."""
    with engine.connect() as conn:
        version = conn.execute(select(func.max(schema_version.c.version))).scalar()
    return None if version is None else int(version)


def _create(engine: Engine, clock: Clock, version: int) -> None:
    with engine.begin() as conn:
        schema_version.create(conn, checkfirst=True)
        metadata.create_all(conn, checkfirst=True)
        conn.execute(insert(schema_version).values(version=version, applied_at=clock.now()))


def _resume_creation(
    engine: Engine, clock: Clock, label: str, names: Collection[str], version: int
) -> None:
    foreign = set(names) - set(metadata.tables)
    if foreign:
        raise StoreError(
            f"{label} has an empty schema_version table and tables that are not ours "
            f"({_listing(foreign)}); refusing to touch it"
        )
    _create(engine, clock, version)


def _upgrade(
    engine: Engine,
    clock: Clock,
    label: str,
    found: int,
    target: int,
    steps: Mapping[int, UpgradeStep],
) -> None:
    missing = [version for version in range(found, target) if version not in steps]
    if missing:  # check first: never leave a database half way between versions
        raise StoreError(
            f"{label}: schema v{found} cannot be upgraded to v{target}: "
            f"no upgrade step from v{missing[0]}"
        )
    for version in range(found, target):
        with engine.begin() as conn:
            steps[version](conn)
            conn.execute(
                insert(schema_version).values(version=version + 1, applied_at=clock.now())
            )


def _listing(names: Collection[str]) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:_LISTED_TABLES])
    more = len(ordered) - _LISTED_TABLES
    return f"{shown}, ... {more} more" if more > 0 else shown
