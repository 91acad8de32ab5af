"""How fast ``bithumb-trader serve`` answers on a database of 100,000 cycles (SQLite).

    python benchmarks/bench_serve.py [--db FILE] [--cycles 100000] [--repeat 7]

Without ``--db`` a database is generated first with ``report_dbgen.py`` (kept in the
temporary directory and shared with ``bench_report.py``). The app is built as
``serve`` builds it and called through FastAPI's test client (HTTP parsing, routing,
validation, JSON encoding included; no socket). Every endpoint is timed with the
parameters the dashboard sends, best and median of ``--repeat`` calls after one warm-up
call. Target: every answer under 200 ms. The whole-history report is also timed cold
(its first call reads every row) and then as the cache answers it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.serve import ServeSettings, create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import database

TARGET_MS = 200.0
NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
"""After the generated data (it starts 2023-01-01 and runs 15 minutes a cycle)."""


def endpoints(strategy: str, run_id: str, twap_id: str, cursor: str) -> list[str]:
    q = f"strategy={strategy}&mode=dry"
    return [
        "/api/v1/status",
        "/api/v1/strategies",
        "/api/v1/positions",
        f"/api/v1/positions?{q}",
        "/api/v1/runs?limit=50",
        "/api/v1/runs?limit=500",
        f"/api/v1/runs?limit=50&{q}&status=ok",
        "/api/v1/runs?limit=50&offset=5000",
        f"/api/v1/runs?limit=50&cursor={cursor}",
        "/api/v1/runs?limit=50&from=2023-06-01&to=2023-06-02",
        f"/api/v1/runs/{run_id}",
        f"/api/v1/decisions?{q}&limit=50",
        "/api/v1/decisions?limit=500",
        "/api/v1/orders?limit=50&status=done",
        "/api/v1/fills?limit=50",
        "/api/v1/twap-runs?limit=50",
        f"/api/v1/twap-runs/{twap_id}",
        "/api/v1/equity?mode=dry&points=2000",
        "/api/v1/equity?points=5000",
        f"/api/v1/prices?{q}&points=2000",
        f"/api/v1/model-usage?{q}&since=7d",
        "/api/v1/report?since=7d",
        "/api/v1/report?from=2024-03-01&to=2024-03-31",
        "/",
    ]


def timed(client: TestClient, path: str, repeat: int) -> tuple[float, float, int]:
    first = client.get(path)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples), statistics.median(samples), first.status_code


def once(client: TestClient, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--cycles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    path = database(args.db, args.cycles)
    settings = ServeSettings(database_url=f"sqlite:///{path}")
    started = time.perf_counter()
    app = create_app(settings, clock=ManualClock(NOW))
    with TestClient(app) as client:
        print(f"app built and started in {(time.perf_counter() - started) * 1000:.0f} ms "
              f"({path.stat().st_size / 1e6:.0f} MB database)")
        first = client.get("/api/v1/runs?limit=2&mode=dry").json()
        run_id = first["items"][0]["run_id"]
        twap_id = client.get("/api/v1/twap-runs?limit=1").json()["items"][0]["twap_run_id"]
        strategy = first["items"][0]["strategy"]
        cursor = first["next_cursor"]
        slow = []
        print(f"{'endpoint':70} {'best ms':>8} {'median':>8}")
        for endpoint in endpoints(strategy, run_id, twap_id, cursor):
            best, median, status = timed(client, endpoint, args.repeat)
            flag = "" if median < TARGET_MS and status == 200 else "  <-- SLOW" if \
                status == 200 else f"  <-- HTTP {status}"
            if flag:
                slow.append(endpoint)
            print(f"{endpoint[:70]:70} {best:8.1f} {median:8.1f}{flag}")
        print("whole-history report (GET /api/v1/report):")
        print(f"  cold {once(client, '/api/v1/report?mode=dry'):.0f} ms, "
              f"cached {once(client, '/api/v1/report?mode=dry'):.1f} ms")
    print("all under 200 ms" if not slow else f"over 200 ms or failed: {slow}")
    return 0 if not slow else 1


if __name__ == "__main__":
    sys.exit(main())
