"""Two first runs at the same moment, as real processes, on every backend.

Each test starts ``python -c`` children that open the store on one fresh, empty database
and wait for a ``go`` file before doing so, so they really race: on an empty MariaDB one
used to fail with ``(1050, "Table 'cron_runs' already exists")``, on PostgreSQL with a
``pg_type_typname_nsp_index`` unique violation, on SQLite with "database is locked".
The lease tests (tests/store/test_lease.py) use the same children.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select

from bithumb_llm_trader.store import SCHEMA_VERSION, metadata
from bithumb_llm_trader.store.schema import schema_version

from ..servers import BACKENDS, SERVER_ENV, create_scratch, drop_scratch

CHILD = r"""
import json, os, sys, time
from datetime import timedelta
from pathlib import Path

from bithumb_llm_trader.clock import SystemClock
from bithumb_llm_trader.errors import LeaseHeld
from bithumb_llm_trader.lease import LeaseManager
from bithumb_llm_trader.store import open_store


def report(**fields):
    print(json.dumps({"pid": os.getpid(), **fields}), flush=True)


def wait_for(path):
    deadline = time.monotonic() + 30
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.001)


room, url, action = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
(room / f"ready-{os.getpid()}").touch()
wait_for(room / "go")
store = open_store(url)
if action == "schema":
    store.close()
    report(ok=True)
    sys.exit()
key, ttl = sys.argv[4], timedelta(seconds=float(sys.argv[5]))
try:
    lease = LeaseManager(store, clock=SystemClock(), ttl=ttl).acquire(key)
except LeaseHeld as exc:
    report(held=str(exc), holder_pid=exc.pid)
    sys.exit()
report(got=True)
if action == "hold":
    time.sleep(120)  # until the test kills us
wait_for(room / "finish")
lease.release()
report(released=True)
"""

TIMEOUT_S = 30.0


class Crowd:
    """Children that start their work together when ``go`` is called."""

    def __init__(self, room: Path, url: str, count: int, *args: str) -> None:
        self.room = room
        room.mkdir(parents=True, exist_ok=True)
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(room), url, *args],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for _ in range(count)
        ]

    def go(self) -> None:
        """Release the barrier once every child has started and imported everything."""
        deadline = time.monotonic() + TIMEOUT_S
        while len(list(self.room.glob("ready-*"))) < len(self.procs):
            assert all(p.poll() is None for p in self.procs), self.failures()
            assert time.monotonic() < deadline, "the children did not start"
            time.sleep(0.01)
        (self.room / "go").touch()

    def first_exit(self) -> None:
        """Wait until some child has exited."""
        deadline = time.monotonic() + TIMEOUT_S
        while all(p.poll() is None for p in self.procs):
            assert time.monotonic() < deadline, "no child finished"
            time.sleep(0.01)

    def finish(self) -> list[list[dict[str, Any]]]:
        """Let holders release, wait for every child; each child's reports."""
        (self.room / "finish").touch()
        reports = []
        for proc in self.procs:
            out, err = proc.communicate(timeout=TIMEOUT_S)
            assert proc.returncode == 0, err
            reports.append([json.loads(line) for line in out.splitlines() if line.strip()])
        return reports

    def failures(self) -> str:
        return "; ".join(p.stderr.read() for p in self.procs
                         if p.poll() is not None and p.stderr is not None)

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


@pytest.fixture
def crowds() -> Iterator[list[Crowd]]:
    """Crowds a test started; whatever is still running at the end is killed."""
    made: list[Crowd] = []
    yield made
    for crowd in made:
        crowd.kill_all()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of each backend, dropped after the test."""
    backend: str = request.param
    if backend in SERVER_ENV and not os.environ.get(SERVER_ENV[backend]):
        pytest.skip(f"{SERVER_ENV[backend]} is not set")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.db'}"
        return
    name = f"bt_race_{secrets.token_hex(4)}"
    url = create_scratch(backend, name)
    try:
        yield url
    finally:
        drop_scratch(backend, name)


def test_two_first_runs_both_create_the_schema(
    fresh_url: str, tmp_path: Path, crowds: list[Crowd]
) -> None:
    crowd = Crowd(tmp_path / "room", fresh_url, 2, "schema")
    crowds.append(crowd)
    crowd.go()
    reports = crowd.finish()
    assert [r[-1]["ok"] for r in reports] == [True, True]
    engine = create_engine(fresh_url)
    try:
        assert set(inspect(engine).get_table_names()) == set(metadata.tables)
        with engine.connect() as conn:
            assert list(conn.execute(select(schema_version.c.version)).scalars()) == [
                SCHEMA_VERSION
            ]
    finally:
        engine.dispose()
