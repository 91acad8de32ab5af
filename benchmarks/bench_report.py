"""How long ``bithumb-trader report`` takes on a database of 100,000 cycles (SQLite).

    python benchmarks/bench_report.py [--db FILE] [--cycles 100000] [--repeat 5]

Without ``--db`` a database is generated first (``report_dbgen.py``, about half a
minute; kept in the temporary directory and reused by later runs with the same cycle
count). Measured, best and median of ``--repeat`` runs:

1. ``build_report`` (open read-only, every query, every section) in process: the
   library's cost. Target: well under 3 s.
2. Rendering the table and JSON, and streaming the CSV, in process.
3. The command line end to end in a fresh process (``bithumb-trader report``), which
   includes Python start-up and the import of the whole CLI. Target: under 3 s.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from bithumb_llm_trader.report import (
    Period,
    Scope,
    build_report,
    open_report_source,
    render_json,
    render_table,
    write_csv,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_dbgen import generate

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best and median wall time of ``repeat`` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return min(samples), statistics.median(samples)


def database(path: Path | None, cycles: int) -> Path:
    if path is not None:
        return path
    target = Path(tempfile.gettempdir()) / f"bithumb_report_bench_{cycles}.db"
    if not target.exists():
        print(f"generating {cycles} cycles into {target} ...", flush=True)
        started = time.perf_counter()
        generate(target, cycles)
        print(f"  done in {time.perf_counter() - started:.1f} s "
              f"({target.stat().st_size / 1e6:.0f} MB)")
    return target


def in_process(url: str, repeat: int) -> None:
    source = open_report_source(url)
    scope = Scope(Period())
    try:
        def build() -> object:
            return build_report(source, scope, now=NOW)

        report = build_report(source, scope, now=NOW)
        rows = [
            ("build_report", timed(build, repeat)),
            ("render table", timed(lambda: render_table(
                report, Console(file=io.StringIO(), width=100)), repeat)),
            ("render JSON", timed(lambda: render_json(report), repeat)),
            ("write CSV", timed(lambda: write_csv(source, scope, io.StringIO()), repeat)),
        ]
    finally:
        source.close()
    runs = report.total.runs.count
    print(f"in process ({runs} runs, {report.total.executions.fills} fills):")
    for label, (best, median) in rows:
        print(f"  {label:14s} best {best:6.3f} s   median {median:6.3f} s")


def command_line(url: str, repeat: int) -> None:
    executable = Path(sys.executable).with_name("bithumb-trader")
    base = [str(executable)] if executable.exists() else [
        sys.executable, "-m", "bithumb_llm_trader.main"]
    print("command line, fresh process each time:")
    for label, extra in (("--version", None), ("table", "table"), ("json", "json"),
                         ("csv", "csv")):
        args = [*base, "--version"] if extra is None else [
            *base, "report", "--db", url, "--format", extra]

        def run(args: list[str] = args) -> object:
            return subprocess.run(args, check=True, stdout=subprocess.DEVNULL)

        best, median = timed(run, repeat)
        print(f"  {label:14s} best {best:6.3f} s   median {median:6.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="an existing database file to report on")
    parser.add_argument("--cycles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = database(args.db, args.cycles)
    url = f"sqlite:///{path}"
    in_process(url, args.repeat)
    command_line(url, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
