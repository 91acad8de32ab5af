"""Two worker processes on one study: together they run the trials asked for, no trial
lost or run twice. On PostgreSQL when ``BITHUMB_TRADER_TEST_PG_URL`` is set, else on an
SQLite file (the storage for one machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from sqlalchemy import create_engine, inspect

from bithumb_llm_trader.bootstrap.optimize import SearchRequest, search
from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.store import metadata
from tests.servers import SERVER_ENV, create_scratch, drop_scratch

from .helpers import candles, strategy

TRIALS = 6


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[str]:
    if not os.environ.get(SERVER_ENV["postgres"]):
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    name = f"optuna_{uuid.uuid4().hex[:12]}"
    url = create_scratch("postgres", name)
    try:
        yield url
    finally:
        drop_scratch("postgres", name)


def test_two_processes_share_one_study_and_run_each_trial_once(
    tmp_path: Path, storage: str,
) -> None:
    data = candles(tmp_path / "candles.csv")
    config = strategy(tmp_path / "s.json", folds=1)
    workers = [subprocess.Popen(
        [sys.executable, "-m", "bithumb_llm_trader.main", "optimize", str(config),
         "--data", str(data), "--trials", str(TRIALS), "--storage", storage,
         "--study", "shared", "--json", "--output", str(tmp_path / f"best{n}.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    ) for n in range(2)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err

    study = optuna.load_study(study_name="shared-fold1", storage=storage)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.number for t in complete) == list(range(TRIALS))
    assert len({t.number for t in trials}) == len(trials)  # every number once
    # At most one surplus trial per worker (asked for at the same moment), never run.
    extra = [t for t in trials if t.number >= TRIALS]
    assert len(extra) <= 2 and all(t.state == optuna.trial.TrialState.PRUNED for t in extra)
    assert all("values" in t.user_attrs for t in complete)
    # Both report the same study: the same best parameters.
    reports = [json.loads(out) for out, _ in outputs]
    assert reports[0]["parameters"] == reports[1]["parameters"]
    assert reports[0]["folds"][0]["trials"] == TRIALS
    # The study's database holds Optuna's tables only: no trial wrote a trading row.
    engine = create_engine(storage)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "trials" in tables and not tables & set(metadata.tables)


def test_local_jobs_share_a_temporary_study(tmp_path: Path) -> None:
    data = candles(tmp_path / "candles.csv")
    config = load_config(strategy(tmp_path / "s.json", folds=1), environ={}, dotenv=None)
    outcomes = search(SearchRequest(config=config, data=data, trials=4, jobs=2))
    assert [outcome.trials for outcome in outcomes] == [4]
    assert outcomes[0].out_of_sample["window"]["start"] == \
        outcomes[0].fold.out_start.isoformat()
