"""The search space in the strategy file, and the strategy file the search writes."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.errors import ConfigError
from bithumb_llm_trader.main import app
from bithumb_llm_trader.optimize.params import check_space, configure
from bithumb_llm_trader.optimize.writer import write_strategy

from .helpers import strategy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VALUES = {"strategy.rules.ema_fast": 7, "strategy.rules.atr_stop_multiple": 2.5,
          "risk.max_risk_pct": 0.00345, "strategy.candle_interval": "30m"}


@pytest.mark.parametrize("name", ["config.sample.json", "config.sample.yaml",
                                  "config.sample.toml"])
def test_the_written_strategy_round_trips_through_validate(tmp_path: Path, name: str) -> None:
    source = shutil.copy(EXAMPLES / name, tmp_path / name)
    target = tmp_path / f"best{Path(name).suffix}"
    write_strategy(Path(source), target, VALUES)

    result = CliRunner().invoke(app, ["validate", str(target)])
    assert result.exit_code == 0, result.output
    written, original = (load_config(p, environ={}, dotenv=None) for p in (target, source))
    assert written.strategy.rules.ema_fast == 7
    assert written.strategy.rules.atr_stop_multiple == Decimal("2.5")
    assert written.risk.max_risk_pct == Decimal("0.00345")
    assert written.strategy.candle_interval.value == "30m"
    # Everything not searched is what the user wrote.
    assert written.model_copy(update={"strategy": original.strategy,
                                      "risk": original.risk}) == original
    assert written.risk.model_copy(update={"max_risk_pct": original.risk.max_risk_pct}) \
        == original.risk


def test_a_written_file_keeps_its_optimize_section(tmp_path: Path) -> None:
    source = strategy(tmp_path / "s.json")
    write_strategy(source, tmp_path / "best.json", {"strategy.rules.ema_fast": 4})
    data = json.loads((tmp_path / "best.json").read_text())
    assert data["strategy"]["rules"]["ema_fast"] == 4
    assert data["optimize"] == json.loads(source.read_text())["optimize"]


def test_a_trial_value_is_set_and_validated_like_the_file(tmp_path: Path) -> None:
    config = load_config(strategy(tmp_path / "s.json"), environ={}, dotenv=None)
    assert configure(config, {"strategy.rules.ema_fast": 4}).strategy.rules.ema_fast == 4
    with pytest.raises(ConfigError, match="ema_fast"):
        configure(config, {"strategy.rules.ema_fast": 1})


@pytest.mark.parametrize(("space", "message"), [
    ({"strategy.rules.ema_fastest": {"type": "int", "low": 3, "high": 8}}, "not a field"),
    ({"strategy.rules": {"type": "int", "low": 3, "high": 8}}, "a section"),
    ({"strategy.rules.ema_fast": {"type": "int", "low": 3, "high": 80}}, "ema_fast"),
    ({}, "empty"),
])
def test_a_space_the_strategy_cannot_take_is_refused_before_any_trial(
    tmp_path: Path, space: dict[str, object], message: str,
) -> None:
    config = load_config(strategy(tmp_path / "s.json", space=space), environ={}, dotenv=None)
    with pytest.raises(ConfigError, match=message):
        check_space(config)


@pytest.mark.parametrize("space", [
    {"api.api_key": {"type": "choice", "choices": ["x"]}},
    {"strategy.rules.ema_fast": {"type": "int", "low": 9, "high": 3}},
    {"risk.max_risk_pct": {"type": "log", "low": 0, "high": 0.1}},
    {"strategy.rules.ema_fast": {"type": "uniform", "low": 1, "high": 3}},
])
def test_the_optimize_section_is_closed_and_checked(tmp_path: Path,
                                                    space: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="optimize"):
        load_config(strategy(tmp_path / "s.json", space=space), environ={}, dotenv=None)


def test_the_command_reports_both_sides_and_writes_a_file_validate_accepts(
    tmp_path: Path,
) -> None:
    from .helpers import candles

    data = candles(tmp_path / "candles.csv")
    source = strategy(tmp_path / "s.json")
    result = CliRunner().invoke(app, ["optimize", str(source), "--data", str(data),
                                      "--trials", "3", "--seed", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [fold["trials"] for fold in report["folds"]] == [3, 3]
    for fold in report["folds"]:
        assert fold["in_sample"]["window"]["end"] == fold["out_of_sample"]["window"]["start"]
        assert {"score", "total_return", "fees_share_of_capital"} <= set(fold["out_of_sample"])
    assert report["parameters"] == report["folds"][-1]["parameters"]
    written = tmp_path / "s.optimized.json"
    assert report["written"] == str(written)
    assert CliRunner().invoke(app, ["validate", str(written)]).exit_code == 0
    assert "walk-forward" in result.stderr


@pytest.mark.parametrize(("change", "message"), [
    ({"strategy": {"decider": "llm"}}, "rules decider"),
    ({"optimize": {"space": {}}}, "optimize.space is empty"),
])
def test_the_command_refuses_what_it_cannot_search(
    tmp_path: Path, change: dict[str, dict[str, object]], message: str,
) -> None:
    from .helpers import candles

    source = strategy(tmp_path / "s.json")
    data = json.loads(source.read_text())
    for section, values in change.items():
        data[section].update(values)
    source.write_text(json.dumps(data))
    result = CliRunner().invoke(app, ["optimize", str(source), "--data",
                                      str(candles(tmp_path / "c.csv"))])
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "s.optimized.json").exists()


def test_values_the_strategy_refuses_are_pruned_not_fatal(tmp_path: Path) -> None:
    import optuna

    from bithumb_llm_trader.bootstrap.optimize import SearchRequest, plan_search
    from bithumb_llm_trader.optimize.search import _objective

    from .helpers import candles

    space = {"strategy.rules.ema_fast": {"type": "int", "low": 3, "high": 13},
             "strategy.rules.ema_slow": {"type": "int", "low": 12, "high": 14}}
    config = load_config(strategy(tmp_path / "s.json", space=space, folds=1), environ={},
                         dotenv=None)
    plan = plan_search(SearchRequest(config=config, data=candles(tmp_path / "c.csv")))
    study = optuna.create_study(direction="maximize")
    # ema_fast 13 over ema_slow 12: not a strategy; the trial is pruned, nothing is run.
    study.enqueue_trial({"strategy.rules.ema_fast": 13, "strategy.rules.ema_slow": 12})
    trial = study.ask()
    ran = []
    objective = _objective(plan, lambda *args: ran.append(args) or {}, plan.folds[0], study)
    with pytest.raises(optuna.TrialPruned, match="ema_fast"):
        objective(trial)
    assert ran == []
