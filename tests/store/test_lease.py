"""The lease: one process per account and mode.

Unit tests run the SQLite lease row on a manual clock (expiry, take-over, heartbeat,
waiting); the server locks are checked in process on each configured backend; and real
processes race for one key, or die holding it.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bithumb_llm_trader.clock import ManualClock, SystemClock
from bithumb_llm_trader.domain import UTC
from bithumb_llm_trader.errors import LeaseHeld, StopError, StoreError
from bithumb_llm_trader.lease import Holder, LeaseManager, dry_key, live_key
from bithumb_llm_trader.store import SqlStore, open_store

from .test_schema_race import Crowd, crowds, fresh_url  # noqa: F401  (fixtures)

KEY = "live:ab12cd34"
HOLDER = Holder("h", 123, datetime(2026, 12, 6, 0, 0, tzinfo=UTC))
TTL = timedelta(seconds=30)


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: ManualClock) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'lease.db'}", clock=clock)
    yield store
    store.close()


def manager(store: SqlStore, clock: ManualClock) -> LeaseManager:
    return LeaseManager(store, clock=clock, ttl=TTL, pause=clock.advance)


# -- SQLite, manual clock -------------------------------------------------------------


def test_a_held_lease_refuses_a_second_acquire_naming_the_holder(
    sqlite_store: SqlStore, clock: ManualClock
) -> None:
    first = manager(sqlite_store, clock).acquire(KEY, holder=HOLDER, heartbeat=False)
    with pytest.raises(LeaseHeld) as caught:
        manager(sqlite_store, clock).acquire(KEY, heartbeat=False)
    assert str(caught.value) == (
        "another process holds the lease on live:ab12cd34: host h, pid 123, "
        "since 2026-12-06T09:00:00+09:00"
    )
    assert isinstance(caught.value, StopError)
    assert (caught.value.key, caught.value.host, caught.value.pid) == (KEY, "h", 123)
    assert caught.value.since == HOLDER.since
    assert first.held
    first.release()


def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it(
    sqlite_store: SqlStore, clock: ManualClock
) -> None:
    lost: list[LeaseHeld] = []
    first = manager(sqlite_store, clock).acquire(KEY, heartbeat=False, on_lost=lost.append)
    clock.advance(TTL.total_seconds() - 1)
    with pytest.raises(LeaseHeld):
        manager(sqlite_store, clock).acquire(KEY, heartbeat=False)
    clock.advance(2)
    second = manager(sqlite_store, clock).acquire(KEY, holder=HOLDER, heartbeat=False)
    first.heartbeat()
    assert not first.held
    assert [str(e) for e in lost] == [
        f"the lease on {KEY} was lost: another process took it over or the database "
        "dropped it"
    ]
    with pytest.raises(LeaseHeld, match="was lost"):
        first.check()
    first.release()  # must not delete the new holder's row
    row = manager(sqlite_store, clock).holder_of(KEY)
    assert row is not None and row.holder_pid == 123
    assert second.held
    second.release()


def test_release_frees_the_lease_and_is_idempotent(
    sqlite_store: SqlStore, clock: ManualClock
) -> None:
    leases = manager(sqlite_store, clock)
    with leases.acquire(KEY, heartbeat=False) as lease:
        assert leases.holder_of(KEY) is not None
    assert leases.holder_of(KEY) is None
    lease.release()
    with pytest.raises(LeaseHeld, match="was released"):
        lease.check()
    leases.acquire(KEY, heartbeat=False).release()


def test_the_heartbeat_extends_the_lease(sqlite_store: SqlStore, clock: ManualClock) -> None:
    lease = manager(sqlite_store, clock).acquire(KEY, heartbeat=False)
    for _ in range(4):  # 4 x 20 s: far past one ttl, still held
        clock.advance(20)
        lease.heartbeat()
        assert lease.held
        with pytest.raises(LeaseHeld):
            manager(sqlite_store, clock).acquire(KEY, heartbeat=False)
    row = manager(sqlite_store, clock).holder_of(KEY)
    assert row is not None and row.expires_at == clock.now() + TTL
    clock.advance(TTL.total_seconds())  # no beat for a whole ttl: the holder stops first,
    assert not lease.held  # then, once it has expired, another may take it
    with pytest.raises(LeaseHeld):
        manager(sqlite_store, clock).acquire(KEY, heartbeat=False)
    clock.advance(0.001)
    manager(sqlite_store, clock).acquire(KEY, heartbeat=False).release()


def test_wait_asks_again_every_poll_until_the_deadline(
    sqlite_store: SqlStore, clock: ManualClock
) -> None:
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        clock.advance(seconds)

    first = manager(sqlite_store, clock).acquire(KEY, holder=HOLDER, heartbeat=False)
    leases = LeaseManager(sqlite_store, clock=clock, ttl=TTL, pause=pause)
    with pytest.raises(LeaseHeld, match="pid 123"):
        leases.acquire(KEY, wait=timedelta(seconds=1.2), heartbeat=False)
    assert pauses == pytest.approx([0.5, 0.5, 0.2])

    def release_on_second_pause(seconds: float) -> None:
        pause(seconds)
        if len(pauses) == 5:
            first.release()

    leases = LeaseManager(sqlite_store, clock=clock, ttl=TTL, pause=release_on_second_pause)
    leases.acquire(KEY, wait=timedelta(seconds=10), heartbeat=False).release()
    assert len(pauses) == 5


def test_keys_are_independent(sqlite_store: SqlStore, clock: ManualClock) -> None:
    leases = manager(sqlite_store, clock)
    with leases.acquire("live:one", heartbeat=False), leases.acquire("dry:one", heartbeat=False):
        pass


def test_a_database_without_our_schema_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'foreign.db'}")
    try:
        with pytest.raises(StoreError, match="open it with open_store"):
            LeaseManager(engine, clock=clock).acquire(KEY, heartbeat=False)
    finally:
        engine.dispose()


def test_the_heartbeat_thread_beats_off_the_caller_and_stops(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'beat.db'}")
    try:
        leases = LeaseManager(store, clock=SystemClock(), ttl=timedelta(seconds=0.3))
        lease = leases.acquire(KEY)
        row = leases.holder_of(KEY)
        assert row is not None
        time.sleep(0.5)  # past the ttl: only the heartbeat keeps it
        later = leases.holder_of(KEY)
        assert later is not None and later.heartbeat_at > row.heartbeat_at
        assert lease.held
        lease.release()
        assert not any(t.name == f"lease {KEY}" for t in threading.enumerate())
        assert leases.holder_of(KEY) is None
    finally:
        store.close()


# -- every backend, in process ------------------------------------------------------


@pytest.fixture
def any_store(fresh_url: str) -> Iterator[SqlStore]:  # noqa: F811
    store = open_store(fresh_url)
    yield store
    store.close()


def test_the_lock_refuses_a_second_holder_until_released(any_store: SqlStore) -> None:
    clock = ManualClock(datetime.now(UTC))
    key = f"live:{secrets.token_hex(4)}"
    leases = LeaseManager(any_store, clock=clock, pause=clock.advance)
    first = leases.acquire(key, holder=HOLDER, heartbeat=False)
    with pytest.raises(LeaseHeld) as caught:
        leases.acquire(key, heartbeat=False)
    assert caught.value.pid == 123
    assert "host h, pid 123, since 2026-12-06T09:00:00+09:00" in str(caught.value)
    first.heartbeat()
    assert first.held
    first.release()
    leases.acquire(key, heartbeat=False).release()


def test_a_server_lease_whose_session_dies_is_lost(any_store: SqlStore) -> None:
    if any_store.dialect_name == "sqlite":
        pytest.skip("SQLite leases have no session")
    lost: list[LeaseHeld] = []
    lease = LeaseManager(any_store, clock=SystemClock()).acquire(
        KEY, heartbeat=False, on_lost=lost.append)
    row = LeaseManager(any_store, clock=SystemClock()).holder_of(KEY)
    assert row is not None
    kill = ("SELECT pg_terminate_backend(:id)" if any_store.dialect_name == "postgresql"
            else "KILL :id")
    with any_store.engine.connect() as conn:
        conn.execute(text(kill), {"id": row.server_session})
    lease.heartbeat()
    assert not lease.held and len(lost) == 1
    lease.release()
    LeaseManager(any_store, clock=SystemClock()).acquire(KEY, heartbeat=False).release()


# -- real processes -------------------------------------------------------------------


def test_two_processes_race_for_one_key_and_exactly_one_wins(
    fresh_url: str, tmp_path: Path, crowds: list[Crowd]  # noqa: F811
) -> None:
    crowd = Crowd(tmp_path / "room", fresh_url, 2, "lease", KEY, "30")
    crowds.append(crowd)
    crowd.go()
    crowd.first_exit()  # the loser; the winner holds on until told to finish
    reports = crowd.finish()
    winners = [r for r in reports if r[0].get("got")]
    losers = [r for r in reports if "held" in r[0]]
    assert len(winners) == 1 and len(losers) == 1, reports
    winner_pid = winners[0][0]["pid"]
    assert losers[0][0]["holder_pid"] == winner_pid
    assert f"another process holds the lease on {KEY}: host " in losers[0][0]["held"]
    assert f", pid {winner_pid}, since " in losers[0][0]["held"]
    assert winners[0][-1] == {"pid": winner_pid, "released": True}


def test_a_killed_holder_frees_the_lease(
    fresh_url: str, tmp_path: Path, crowds: list[Crowd]  # noqa: F811
) -> None:
    ttl = timedelta(seconds=1.5)
    crowd = Crowd(tmp_path / "room", fresh_url, 1, "hold", KEY, str(ttl.total_seconds()))
    crowds.append(crowd)
    crowd.go()
    holder = crowd.procs[0]
    assert holder.stdout is not None
    assert '"got": true' in holder.stdout.readline(), crowd.failures()
    store = open_store(fresh_url)
    try:
        leases = LeaseManager(store, clock=SystemClock(), ttl=ttl)
        if store.dialect_name == "sqlite":  # the row outlives its holder by up to a ttl
            with pytest.raises(LeaseHeld, match=f"pid {holder.pid},"):
                leases.acquire(KEY)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        killed_at = time.monotonic()
        lease = leases.acquire(KEY, wait=timedelta(seconds=10), heartbeat=False)
        waited = time.monotonic() - killed_at
        row = leases.holder_of(KEY)
        assert row is not None and row.holder_pid == os.getpid()
        lease.release()
    finally:
        store.close()
    assert waited < ttl.total_seconds() + 2


def test_keys_never_carry_the_api_key() -> None:
    key = live_key("my-secret-api-key")
    assert key.startswith("live:") and len(key) == 21 and "secret" not in key
    assert key == live_key("my-secret-api-key") != live_key("another")
    assert dry_key("momentum") == "dry:momentum"
