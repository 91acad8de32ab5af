"""``bithumb-trader optimize``: search a strategy's parameters, walk-forward, with Optuna.

The report (each fold's in-sample and out-of-sample figures side by side, and the
parameters chosen) goes to stdout as JSON and, unless ``--json``, as a table on stderr,
after a progress bar. The last fold's parameters (chosen on the most recent in-sample
data) are written as a new strategy file in the input's format. Optuna is imported only
when this command runs, so every other command starts as fast as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from . import numbers as n
from .common import EXIT_OK, fail, handled_errors, load, print_json, stderr
from .live import LiveProgress

if TYPE_CHECKING:
    from ..optimize.search import FoldOutcome


def command(
    ctx: typer.Context, *, config: str, data: str, trials: int | None, jobs: int,
    folds: int | None, storage: str | None, study: str | None, output: str | None,
    seed: int | None, json_only: bool,
) -> None:
    """Search the strategy's optimize.space on past candles, walk-forward, after fees;
    the options are ``cli.commands.optimize``'s."""
    if ctx.args:
        fail(f"unexpected arguments: {' '.join(ctx.args)}")
    try:
        from ..bootstrap.optimize import SearchRequest, search
        from ..optimize.writer import write_strategy
    except ImportError as exc:
        fail(f"optimize needs Optuna ({exc.name} is missing): "
             "pip install 'bithumb-llm-trader[optimize]'")
    source = Path(config)
    request = SearchRequest(config=load(config), data=Path(data), trials=trials, jobs=jobs,
                            folds=folds, storage=storage, study=study, seed=seed)
    target = Path(output) if output else source.with_name(
        f"{source.stem}.optimized{source.suffix}")
    with handled_errors(), _Bar(json_only) as bar:
        outcomes = search(request, progress=bar)
    with handled_errors():
        write_strategy(source, target, outcomes[-1].values)
    report = _report(outcomes, request.config.optimize.objective, target)
    print_json(report, compact=False)
    if not json_only:
        stderr().print(fold_table(report))
        stderr().print(f"best parameters (last fold) written to {target}")
    raise typer.Exit(EXIT_OK)


def _report(outcomes: list[FoldOutcome], objective: str, target: Path) -> dict[str, Any]:
    return {
        "kind": "optimize", "objective": objective, "written": str(target),
        "parameters": outcomes[-1].values,
        "folds": [{
            "fold": o.fold.number, "trials": o.trials, "parameters": o.values,
            "in_sample": o.in_sample, "out_of_sample": o.out_of_sample,
        } for o in outcomes],
    }


def fold_table(report: dict[str, Any]) -> Table:
    """Each fold's in-sample ("in") and out-of-sample ("out") figures, one under the
    other."""
    table = Table(title=f"walk-forward, objective {report['objective']} (after fees)",
                  title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1),
                  pad_edge=False)
    for column in ("fold", "", "window (UTC)", "score", "return", "max dd", "fees",
                   "trips"):
        table.add_column(column, justify="right" if column not in ("", "window (UTC)")
                         else "left", no_wrap=True)
    for fold in report["folds"]:
        for part, key in (("in", "in_sample"), ("out", "out_of_sample")):
            figures = fold[key]
            table.add_row(
                str(fold["fold"]) if key == "in_sample" else "", part, _window(figures),
                n.ratio(figures.get("score")), n.percent(figures.get("total_return")),
                n.percent(figures.get("max_drawdown")),
                n.percent(figures.get("fees_share_of_capital")),
                n.count(figures.get("round_trips")))
    return table


def _window(figures: dict[str, Any]) -> str:
    window = figures.get("window") or {}
    start, end = str(window.get("start", "")), str(window.get("end", ""))
    return f"{start[:16].replace('T', ' ')} → {end[11:16]}" if start[:10] == end[:10] \
        else f"{start[:10]} → {end[:10]}"


class _Bar(LiveProgress):
    """Trials done over trials asked, on stderr (nothing with ``--json``)."""

    def __init__(self, quiet: bool) -> None:
        super().__init__(None if quiet else Progress(
            "trials", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=stderr(), transient=True))

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            return
        if self._task is None:
            self._task = self._progress.add_task("trials", total=total)
        self._progress.update(self._task, completed=done, total=total)
