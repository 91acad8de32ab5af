"""Parameter-search speed: trials per minute with 1 and 2 local jobs.

    python benchmarks/bench_optimize.py [--data FILE] [--trials 24] [--jobs 1 2]

The sample strategy (rules decider, 15-minute bars, deciding every 15 minutes) with a
three-parameter space is searched on the September 2025 one-minute file, one fold
(the first 75% of the month in sample). A trial is a whole in-sample backtest (about
35,000 candles) on a throwaway in-memory store. The time is the search's wall time,
process start-up, the shared SQLite study (2 jobs) and the one out-of-sample backtest
included; trials per minute are the trials over it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bithumb_llm_trader.bootstrap.optimize import SearchRequest, search

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backtest import DATA, sample_config

SPACE = {
    "strategy.rules.ema_fast": {"type": "int", "low": 5, "high": 20},
    "strategy.rules.atr_stop_multiple": {"type": "float", "low": 1, "high": 4, "step": 0.25},
    "strategy.rules.edge_margin": {"type": "float", "low": 0, "high": 3},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no data file at {args.data}", file=sys.stderr)
        return 2
    base = sample_config()
    section = base.optimize.model_validate({"objective": "sharpe", "folds": 1,
                                            "decide_every": "15m", "space": SPACE})
    config = base.model_copy(update={"optimize": section})
    print(f"{args.data.name}, {args.trials} trials, 1 fold, objective sharpe")
    for jobs in args.jobs:
        started = time.perf_counter()
        outcomes = search(SearchRequest(config=config, data=args.data, trials=args.trials,
                                        jobs=jobs, seed=1))
        seconds = time.perf_counter() - started
        print(f"  --jobs {jobs}: {outcomes[0].trials} trials in {seconds:.1f} s = "
              f"{outcomes[0].trials / seconds * 60:.1f} trials/minute", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
