"""Walk-forward folds: consecutive, non-overlapping out-of-sample parts, and an
in-sample backtest that never sees a candle of its out-of-sample part."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from bithumb_llm_trader.bootstrap import optimize as wiring
from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.errors import ConfigError
from bithumb_llm_trader.optimize.folds import walk_forward
from tests.backtest.helpers import T0, ScriptedDecider

from .helpers import candles, strategy

MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(("folds", "ratio"), [(1, 0.75), (3, 0.75), (4, 0.5), (5, 0.9)])
def test_out_of_sample_parts_follow_each_other_and_never_overlap_their_in_sample(
    folds: int, ratio: float,
) -> None:
    end = T0 + 10_000 * MINUTE
    result = walk_forward(T0, end, folds, ratio, MINUTE)

    assert [fold.number for fold in result] == list(range(1, folds + 1))
    assert result[-1].out_end <= end
    for fold in result:
        assert T0 <= fold.in_start < fold.in_end == fold.out_start < fold.out_end
        assert (fold.in_end - fold.in_start) % MINUTE == timedelta(0)
        lengths = (fold.in_end - fold.in_start) / (fold.out_end - fold.out_start)
        assert abs(lengths - ratio / (1 - ratio)) < 0.05 * lengths + 0.01
    for before, after in pairwise(result):
        assert after.out_start == before.out_end  # one continuous out-of-sample track
        assert after.in_start > before.in_start  # the window rolls forward


def test_too_little_data_for_the_folds_is_refused() -> None:
    with pytest.raises(ConfigError, match="too few"):
        walk_forward(T0, T0 + 10 * MINUTE, 5, 0.75, MINUTE)


def test_no_out_of_sample_candle_is_ever_seen_in_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = candles(tmp_path / "candles.csv")
    config = load_config(strategy(tmp_path / "s.json"), environ={}, dotenv=None)
    plan = wiring.plan_search(wiring.SearchRequest(config=config, data=data))
    spies: list[ScriptedDecider] = []

    def spy(_: Any) -> ScriptedDecider:
        spies.append(ScriptedDecider())
        return spies[-1]

    monkeypatch.setattr(wiring, "rule_decider", spy)
    for fold in plan.folds:
        wiring.evaluate_fold(config, data, fold, False, None)
        seen = spies[-1].seen
        assert seen, "the in-sample backtest decided nothing"
        assert max(s.taken_at for s in seen) <= fold.in_end
        # Every bar the decider was shown ended by the in-sample end.
        assert max(bar[0] for s in seen for bar in s.candles) + 5 * MINUTE <= fold.in_end
        wiring.evaluate_fold(config, data, fold, True, None)
        scored = spies[-1].seen
        assert min(s.taken_at for s in scored) > fold.out_start
        assert max(s.taken_at for s in scored) <= fold.out_end


def test_the_span_is_the_whole_file(tmp_path: Path) -> None:
    data = candles(tmp_path / "candles.csv", count=100)
    first, end, candle = wiring._span(data)
    assert (first, end, candle) == (T0, T0 + 100 * MINUTE, MINUTE)
    assert isinstance(first, datetime)
