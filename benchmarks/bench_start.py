"""How fast the command line starts: ``--help`` and a one-shot ``run``, fresh processes.

    python benchmarks/bench_start.py [--repeat 7]

Two measures, each the median of ``--repeat`` fresh processes (wall time):

- ``bithumb-trader --help`` against ``python -c "import typer"`` (target: at most 2x);
- ``bithumb-trader run STRATEGY --json`` with the rules decider against a loopback
  stand-in exchange (target: at most 1.0 s). The stand-in is ``tests/standin.py``'s
  ``BithumbStandIn`` behind a small threaded HTTP server on 127.0.0.1, run in this
  process; the strategy file (in a temporary directory, with its own SQLite database)
  points ``api.base_url`` at it. The first run creates the database and is not counted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.standin import BithumbStandIn  # noqa: E402

HELP_RATIO_TARGET = 2.0
RUN_TARGET_S = 1.0


def serve_stand_in(standin: BithumbStandIn) -> ThreadingHTTPServer:
    """The stand-in's ``handle`` (httpx request in, httpx response out) over real HTTP."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(self.command, f"http://127.0.0.1{self.path}",
                                    headers=dict(self.headers.items()), content=body)
            response = standin.handle(request)
            content = response.read()
            self.send_response(response.status_code)
            self.send_header("content-type",
                             response.headers.get("content-type", "application/json"))
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_strategy(directory: Path, base_url: str) -> Path:
    data = {
        "name": "bench-start",
        "dry_run": True,
        "api": {"base_url": base_url},
        "strategy": {"decider": "rules", "candle_interval": "15m", "candle_count": 200},
        "risk": {"max_trade_value": 100000, "kill_switch_file": str(directory / "KILL")},
        "paper": {"initial_balances": {"KRW": 1000000}},
        "database": {"url": f"sqlite:///{directory / 'bench.db'}"},
    }
    target = directory / "strategy.json"
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def timed(argv: Sequence[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def median_of(argv: Sequence[str], cwd: Path, repeat: int) -> float:
    return statistics.median(timed(argv, cwd) for _ in range(repeat))


def trader_command() -> list[str]:
    found = shutil.which("bithumb-trader", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "bithumb_llm_trader.main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    trader = trader_command()
    standin = BithumbStandIn(clock=lambda: datetime.now(timezone.utc))
    server = serve_stand_in(standin)
    with tempfile.TemporaryDirectory(prefix="bench-start-") as temp:
        work = Path(temp)
        strategy = write_strategy(work, f"http://127.0.0.1:{server.server_address[1]}")
        typer_s = median_of([sys.executable, "-c", "import typer"], work, args.repeat)
        help_s = median_of([*trader, "--help"], work, args.repeat)
        run = [*trader, "run", str(strategy), "--json", "--no-log-file"]
        timed(run, work)  # creates the database
        run_s = median_of(run, work, args.repeat)
    server.shutdown()
    ratio = help_s / typer_s
    print(f"median of {args.repeat} fresh processes, {' '.join(trader)}")
    print(f"  python -c 'import typer'   {typer_s * 1000:7.0f} ms")
    print(f"  bithumb-trader --help      {help_s * 1000:7.0f} ms  = {ratio:.2f}x"
          f"  (target <= {HELP_RATIO_TARGET:.0f}x)")
    print(f"  run, rules, loopback       {run_s * 1000:7.0f} ms"
          f"  (target <= {RUN_TARGET_S * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
