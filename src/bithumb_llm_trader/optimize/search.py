"""The search itself, on Optuna: one study per walk-forward fold, any number of workers.

Every worker, here or on another machine, runs the same loop on the same storage: for
each fold in turn, join the fold's study (``<study>-fold<N>``, created by whoever comes
first) and run trials until the study holds ``trials`` of them. Optuna's RDB storage
numbers a study's trials under a row lock, so a trial numbered ``trials`` or more was
one too many (two workers asked at once): it is pruned unrun and the worker moves on.
No coordination is written here; the storage is the only thing shared.

Storage: ``--storage URL`` (any SQLAlchemy URL; SQLite for one machine), else memory
for one job, else an SQLite file in a temporary directory shared by this machine's jobs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import optuna
from sqlalchemy.exc import SQLAlchemyError

from ..config import StrategyConfig
from ..errors import ConfigError
from .folds import Fold
from .objective import score
from .params import configure
from .space import Scalar, suggest

Evaluate = Callable[[StrategyConfig, Path, Fold, bool, timedelta | None], dict[str, Any]]
"""Runs one backtest: (strategy, data, fold, out_of_sample, cadence) -> its results."""
Progress = Callable[[int, int], None]
_POLL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Plan:
    """What every worker needs: picklable, so ``--jobs`` processes receive it."""

    config: StrategyConfig
    data: Path
    folds: tuple[Fold, ...]
    objective: str
    trials: int
    study: str
    storage: str | None = None
    decide_every: timedelta | None = None
    seed: int | None = None

    def study_name(self, fold: Fold) -> str:
        return f"{self.study}-fold{fold.number}"


@dataclass(slots=True)
class FoldOutcome:
    """One fold's best trial and its figures on both sides of the boundary."""

    fold: Fold
    trials: int
    values: dict[str, Scalar]
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any] = field(default_factory=dict)


def run_search(plan: Plan, evaluate: Evaluate, *, jobs: int = 1,
               progress: Progress | None = None) -> list[FoldOutcome]:
    """Run every fold's trials with ``jobs`` processes, then score each fold's best
    parameters on its out-of-sample part."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with _shared_storage(plan, jobs) as url:
        plan = dataclasses.replace(plan, storage=url)
        storage = open_storage(plan.storage)
        if jobs <= 1:
            work(plan, evaluate, storage=storage, progress=progress)
        else:
            _in_processes(plan, evaluate, jobs, storage, progress)
        return [_outcome(plan, evaluate, storage, fold) for fold in plan.folds]


def work(plan: Plan, evaluate: Evaluate, *, storage: Any = None,
         progress: Progress | None = None) -> None:
    """One worker: each fold's study until it holds ``plan.trials`` trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage if storage is not None else open_storage(plan.storage)
    total = plan.trials * len(plan.folds)
    for index, fold in enumerate(plan.folds):
        study = optuna.create_study(
            study_name=plan.study_name(fold), storage=storage, direction="maximize",
            load_if_exists=True, sampler=optuna.samplers.TPESampler(seed=plan.seed))
        if len(study.get_trials(deepcopy=False)) >= plan.trials:
            continue
        done = index * plan.trials

        def report(study: optuna.Study, _: Any, done: int = done) -> None:
            if progress is not None:
                progress(done + min(_finished(study), plan.trials), total)

        study.optimize(_objective(plan, evaluate, fold, study), n_trials=plan.trials,
                       callbacks=[report], gc_after_trial=False)


def _objective(plan: Plan, evaluate: Evaluate, fold: Fold,
               study: optuna.Study) -> Callable[[optuna.Trial], float]:
    window = fold.in_end - fold.in_start

    def objective(trial: optuna.Trial) -> float:
        if trial.number >= plan.trials:
            study.stop()
            raise optuna.TrialPruned(f"the study already has its {plan.trials} trials")
        values = suggest(plan.config.optimize.space, trial)
        try:
            config = configure(plan.config, values)
        except ConfigError as exc:  # e.g. ema_fast drawn above ema_slow: not a strategy
            raise optuna.TrialPruned(str(exc)) from exc
        results = evaluate(config, plan.data, fold, False, plan.decide_every)
        trial.set_user_attr("values", values)
        trial.set_user_attr("results", results)
        return score(results, plan.objective, window)

    return objective


def _outcome(plan: Plan, evaluate: Evaluate, storage: Any, fold: Fold) -> FoldOutcome:
    study = optuna.load_study(study_name=plan.study_name(fold), storage=storage)
    _await_others(study, plan.trials)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise ConfigError(f"no trial of fold {fold.number} completed: every set of values "
                          "drawn was refused by the strategy (see optimize.space)")
    best = study.best_trial
    values: dict[str, Scalar] = best.user_attrs["values"]
    in_results = {**best.user_attrs["results"], "score": best.value}
    out = evaluate(configure(plan.config, values), plan.data, fold, True, plan.decide_every)
    out["score"] = score(out, plan.objective, fold.out_end - fold.out_start)
    return FoldOutcome(fold=fold, trials=len(complete), values=values,
                       in_sample=in_results, out_of_sample=out)


def _await_others(study: optuna.Study, trials: int) -> None:
    """Wait for trials other workers (here or elsewhere) are still running, so every
    worker reports the same best trial. A worker that died stops sending heartbeats,
    and its trial is marked failed after the grace period instead of waited for."""
    running = optuna.trial.TrialState.RUNNING
    while any(trial.number < trials
              for trial in study.get_trials(deepcopy=False, states=(running,))):
        optuna.storages.fail_stale_trials(study)
        time.sleep(_POLL_SECONDS)


def open_storage(url: str | None) -> Any:
    """Optuna's storage for ``url``: memory when None, else its RDB storage.

    Two workers starting at once on an empty database both create Optuna's tables, and
    the slower fails with "already exists": it tries again, and then finds them.
    """
    if url is None:
        return optuna.storages.InMemoryStorage()
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": 60}}
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" since 2.9
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=options,
                                                  heartbeat_interval=_HEARTBEAT_SECONDS,
                                                  grace_period=4 * _HEARTBEAT_SECONDS)
        except SQLAlchemyError:
            if attempt + 1 == _CREATE_ATTEMPTS:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


_CREATE_ATTEMPTS = 5
_HEARTBEAT_SECONDS = 15


def _finished(study: optuna.Study) -> int:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    return len(study.get_trials(deepcopy=False, states=states))


@contextlib.contextmanager
def _shared_storage(plan: Plan, jobs: int) -> Iterator[str | None]:
    """The storage URL the workers share: the plan's, or a temporary SQLite file when
    several local jobs need one and none was given."""
    if plan.storage is not None or jobs <= 1:
        yield plan.storage
        return
    with tempfile.TemporaryDirectory(prefix="bithumb-optimize-") as directory:
        yield f"sqlite:///{Path(directory) / 'study.db'}"


def _in_processes(plan: Plan, evaluate: Evaluate, jobs: int, storage: Any,
                  progress: Progress | None) -> None:
    context = multiprocessing.get_context("spawn")  # no inherited threads or connections
    workers = [context.Process(target=work, args=(plan, evaluate), daemon=True)
               for _ in range(jobs)]
    for worker in workers:
        worker.start()
    try:
        while any(worker.is_alive() for worker in workers):
            if progress is not None:
                progress(_count(plan, storage), plan.trials * len(plan.folds))
            time.sleep(_POLL_SECONDS)
    finally:
        for worker in workers:
            worker.join()
    failed = [worker.exitcode for worker in workers if worker.exitcode]
    if failed:
        raise RuntimeError(f"{len(failed)} of {jobs} search processes failed "
                           f"(exit codes {failed})")


def _count(plan: Plan, storage: Any) -> int:
    done = 0
    for fold in plan.folds:
        with contextlib.suppress(KeyError):
            study = optuna.load_study(study_name=plan.study_name(fold), storage=storage)
            done += min(_finished(study), plan.trials)
    return done


