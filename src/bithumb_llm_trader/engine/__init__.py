"""The trading engine: one cycle from market data to a recorded order."""

from .cycle import SnapshotProvider, TradingEngine, new_run_id
from .results import CycleResult, StepResult, jsonable
from .state import CycleState, Stop
from .steps import CycleSteps

__all__ = [
    "CycleResult",
    "CycleState",
    "CycleSteps",
    "SnapshotProvider",
    "StepResult",
    "Stop",
    "TradingEngine",
    "jsonable",
    "new_run_id",
]
