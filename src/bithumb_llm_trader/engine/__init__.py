"""The trading engine: one cycle from market data to a recorded order."""

from .cycle import TradingEngine, new_run_id
from .results import CycleResult, StepResult, jsonable
from .state import CycleState, Stop

__all__ = [
    "CycleResult",
    "CycleState",
    "StepResult",
    "Stop",
    "TradingEngine",
    "jsonable",
    "new_run_id",
]
