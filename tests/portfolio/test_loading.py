"""Reading a portfolio: a directory of strategy files, or a portfolio file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bithumb_llm_trader.errors import ConfigError
from bithumb_llm_trader.multi_agent import load_portfolio

D = Decimal
ENV: dict[str, str] = {}


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def load(path: Path) -> Any:
    return load_portfolio(path, environ=ENV, dotenv=None)


def test_a_directory_runs_every_file_and_isolates_a_bad_one(tmp_path: Path) -> None:
    write_json(tmp_path / "alpha.json", {"name": "alpha"})
    (tmp_path / "beta.yaml").write_text("name: beta\ntrading_pair:\n  order_currency: ETH\n",
                                        encoding="utf-8")
    (tmp_path / "gamma.toml").write_text('name = "gamma"\n', encoding="utf-8")
    write_json(tmp_path / "broken.json", {"name": "broken", "risk": {"min_confidence": 7}})
    (tmp_path / "README.md").write_text("not a strategy", encoding="utf-8")
    plan = load(tmp_path)
    assert plan.from_directory
    assert [m.name for m in plan.members] == ["alpha", "beta", "gamma"]
    assert [f.name for f in plan.failures] == ["broken"]
    assert "risk.min_confidence" in plan.failures[0].error
    assert {m.weight for m in plan.members} == {D("0.25")}  # the broken file keeps its share
    assert plan.failures[0].weight == D("0.25")
    assert plan.config.dry_run and plan.config.name == "portfolio"
    assert plan.paper_balances() == {"KRW": D(3_000_000)}
    assert plan.database_url() == "sqlite:///bithumb_trader.db"
    assert plan.database_url("sqlite:///other.db") == "sqlite:///other.db"


def test_equal_weights_never_sum_above_one(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        write_json(tmp_path / f"{name}.json", {"name": name})
    plan = load(tmp_path)
    assert sum(m.weight for m in plan.members) <= 1
    assert plan.members[0].weight == D("0.333333")


def test_a_directory_is_live_only_when_every_file_says_so(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"name": "a", "dry_run": False})
    write_json(tmp_path / "b.json", {"name": "b", "dry_run": True})
    assert load(tmp_path).config.dry_run
    write_json(tmp_path / "b.json", {"name": "b", "dry_run": False})
    assert not load(tmp_path).config.dry_run


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    write_json(tmp_path / "one.json", {"name": "same"})
    write_json(tmp_path / "two.json", {"name": "same"})
    with pytest.raises(ConfigError, match="'same' is used by both"):
        load(tmp_path)


def test_a_directory_without_a_good_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no strategy files"):
        load(tmp_path)
    write_json(tmp_path / "bad.json", {"nope": 1})
    with pytest.raises(ConfigError, match="no strategy file loads"):
        load(tmp_path)
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "missing")


def test_a_portfolio_file_names_members_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    write_json(tmp_path / "s" / "a.json", {"name": "a"})
    write_json(tmp_path / "s" / "b.json", {"name": "b", "paper": {"initial_balances": {}}})
    (tmp_path / "portfolio.yaml").write_text(
        "name: fund\n"
        "strategies:\n  - {file: s/a.json, weight: 0.6}\n  - {file: s/b.json, weight: 0.3}\n"
        "reserved_pool_pct: 0.1\nmax_gross_exposure: 0.8\ndaily_loss_limit_krw: 50000\n"
        "database_url: sqlite:///fund.db\ndry_run: false\n"
        "paper_initial_balances: {krw: 2000000}\n", encoding="utf-8")
    plan = load(tmp_path / "portfolio.yaml")
    assert not plan.from_directory and plan.config.name == "fund"
    assert [(m.name, m.weight) for m in plan.members] == [("a", D("0.6")), ("b", D("0.3"))]
    assert plan.config.reserved_pool_pct == D("0.1")
    assert plan.config.max_gross_exposure == D("0.8")
    assert plan.config.daily_loss_limit_krw == D(50000)
    assert not plan.config.dry_run
    assert plan.database_url() == "sqlite:///fund.db"
    assert plan.paper_balances() == {"KRW": D(2_000_000)}


@pytest.mark.parametrize(("members", "message"), [
    ([{"file": "a.json", "weight": 0.7}, {"file": "b.json", "weight": 0.4}], "sum to 1.1"),
    ([{"file": "a.json", "weight": 0}], "strategies.0.weight"),
    ([], "strategies"),
    ([{"file": "a.json", "weight": 0.5, "extra": 1}], "strategies.0.extra"),
    ([{"file": "a.json", "weight": 0.5}, {"file": "a.json", "weight": 0.5}], "used by both"),
    ([{"file": "missing.json", "weight": 0.5}], "strategy missing.json"),
    ([{"file": "bad.json", "weight": 0.5}], "risk.min_confidence"),
])
def test_a_bad_portfolio_file_is_refused_whole(tmp_path: Path, members: list[Any],
                                               message: str) -> None:
    write_json(tmp_path / "a.json", {"name": "a"})
    write_json(tmp_path / "b.json", {"name": "b"})
    write_json(tmp_path / "bad.json", {"name": "bad", "risk": {"min_confidence": 7}})
    portfolio = write_json(tmp_path / "p.json", {"strategies": members})
    with pytest.raises(ConfigError, match=message):
        load(portfolio)


def test_a_strategy_file_is_not_a_portfolio_file(tmp_path: Path) -> None:
    strategy = write_json(tmp_path / "a.json", {"name": "a"})
    with pytest.raises(ConfigError, match="bithumb-trader run"):
        load(strategy)


def test_members_must_share_one_account_and_one_database(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"name": "a", "database": {"url": "sqlite:///a.db"}})
    write_json(tmp_path / "b.json", {"name": "b", "database": {"url": "sqlite:///b.db"}})
    with pytest.raises(ConfigError, match="different databases"):
        load(tmp_path).database_url()
    write_json(tmp_path / "b.json", {"name": "b", "api": {"base_url": "https://elsewhere"}})
    with pytest.raises(ConfigError, match="different Bithumb accounts"):
        load(tmp_path)


def test_a_member_may_not_take_the_portfolio_name(tmp_path: Path) -> None:
    write_json(tmp_path / "portfolio.json", {"name": "portfolio"})
    with pytest.raises(ConfigError, match="portfolio's own name"):
        load(tmp_path)
