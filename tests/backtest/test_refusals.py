"""A backtest counts the orders the pre-trade gate refused, by reason, and shows them."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from rich.console import Console

from bithumb_llm_trader.backtest.results import ReplayCounts
from bithumb_llm_trader.cli.backtest_cmd import summary_table


def _cycle(status: str | None, error: str | None = None) -> Any:
    execution = None if status is None else SimpleNamespace(
        status=status, result_json={"error": error})
    return SimpleNamespace(parts={"decision": None, "execution": execution}, ok=True)


def test_refused_orders_are_counted_by_the_gates_reason() -> None:
    counts = ReplayCounts()
    for cycle in (_cycle("refused", "max_position_size: worth 500142 KRW, above 500000"),
                  _cycle("refused", "max_position_size: worth 500060 KRW, above 500000"),
                  _cycle("refused", "price_band: 12% from the mid"),
                  _cycle("filled"), _cycle(None), _cycle("rejected", "insufficient funds")):
        counts.record(cycle, protective=False)
    assert counts.refused_orders == {"max_position_size": 2, "price_band": 1}
    assert counts.decision_cycles == 6


def test_the_summary_shows_the_refusals_only_when_there_were_some() -> None:
    def shown(refused: dict[str, int]) -> str:
        result = SimpleNamespace(
            strategy="s", market="KRW-BTC", window_start=None, window_end=None,
            results={"initial_equity_krw": "1000000", "final_equity_krw": "990000"},
            details={"cycles": {"refused_orders": refused}},
            to_dict=lambda: {"data": {"source_exchange": "upbit", "candles_read": 10,
                                      "gaps": 0, "missing_candles": 0}})
        out = io.StringIO()
        Console(file=out, width=120).print(summary_table(result))  # type: ignore[arg-type]
        return out.getvalue()

    assert "refused by the gate" in shown({"max_position_size": 37})
    assert "37 (max_position_size 37)" in shown({"max_position_size": 37})
    assert "refused by the gate" not in shown({})
