"""Order executors for tests that exercise retries, TWAP slicing or netting rather than
the gate: a ``PreTradeGate`` whose rules allow every order a sane book and balance allow
(the composition root builds the real ones; ``tests/core/test_gate.py`` tests them)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bithumb_llm_trader.domain import Mode
from bithumb_llm_trader.execution import OrderExecutor
from bithumb_llm_trader.gate import GateRules, PreTradeGate


def open_gate(gateway: Any, *, data: Any, account: Any, store: Any, now: Callable[[], Any],
              owner: str = "s", mode: Mode = Mode.DRY,
              kill_switch: Callable[[], bool] = lambda: False,
              **limits: Decimal | bool | None) -> PreTradeGate:
    rules = GateRules(owner=owner, mode=mode, kill_switch=kill_switch, **limits)  # type: ignore[arg-type]
    return PreTradeGate(gateway, market_data=data, account=account, store=store, rules=rules,
                        now=now)


def gated_executor(gateway: Any, *, data: Any, account: Any, store: Any, clock: Any,
                   owner: str = "s", mode: Mode = Mode.DRY,
                   kill_switch: Callable[[], bool] = lambda: False,
                   **limits: Decimal | bool | None) -> OrderExecutor:
    gate = open_gate(gateway, data=data, account=account, store=store, now=clock.now,
                     owner=owner, mode=mode, kill_switch=kill_switch, **limits)
    return OrderExecutor(gate, store, clock, strategy=owner, mode=mode)
