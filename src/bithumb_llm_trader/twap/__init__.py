"""TWAP: a large order executed as time-sliced child orders, guarded and resumable.

``plan_slices`` cuts the parent into slices that sum to it exactly; ``TWAPExecutor``
sends them on an injected clock, each inside a price guard set at arrival, records
everything (``twap_runs``, ``twap_slices``, orders and fills) and resumes a stopped or
crashed run without sending any slice twice.
"""

from .executor import ProgressCallback, TWAPExecutor
from .guard import SliceSizing, guard_price, size_slice
from .params import TwapParams, params_from_json, params_to_json
from .plan import PlannedSlice, SizeUnit, SlicePlan, plan_slices
from .report import TwapProgress, TwapReport
from .state import slice_client_order_id

__all__ = [
    "PlannedSlice",
    "ProgressCallback",
    "SizeUnit",
    "SlicePlan",
    "SliceSizing",
    "TWAPExecutor",
    "TwapParams",
    "TwapProgress",
    "TwapReport",
    "guard_price",
    "params_from_json",
    "params_to_json",
    "plan_slices",
    "size_slice",
    "slice_client_order_id",
]
