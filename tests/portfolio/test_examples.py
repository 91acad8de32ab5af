"""The shipped portfolio examples load, as a portfolio file and as a directory."""

from decimal import Decimal
from pathlib import Path

from bithumb_llm_trader.multi_agent import load_portfolio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_sample_portfolio_file_loads() -> None:
    plan = load_portfolio(EXAMPLES / "portfolio.sample.yaml", environ={}, dotenv=None)
    assert [(m.name, m.weight) for m in plan.members] == [
        ("btc-llm", Decimal("0.5")), ("btc-trend-rules", Decimal("0.3"))]
    assert plan.failures == ()
    assert plan.config.max_gross_exposure == Decimal("0.8")


def test_sample_directory_loads_with_equal_weights() -> None:
    plan = load_portfolio(EXAMPLES / "portfolio", environ={}, dotenv=None)
    assert sorted(m.name for m in plan.members) == ["btc-llm", "btc-trend-rules"]
    assert {m.weight for m in plan.members} == {Decimal("0.5")}
