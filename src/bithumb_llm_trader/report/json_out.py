"""The report as JSON with stable keys, for scripts and dashboards.

Keys are the field names of ``report.model`` and are always present (a figure that
cannot be computed is ``null``, a count of nothing is ``0``), so a consumer never has to
guess whether a key is missing or zero. Money, prices, volumes, bps and ratios are JSON
strings holding exact decimals (``"100000.5"``): a JSON number would be read back as a
float by most tools. Counts and token numbers are integers. Times are ISO 8601 in UTC.
Bump ``REPORT_VERSION`` when a key changes meaning or disappears.

Version 2 puts the mode above the sections (``by_mode.<mode>.total``,
``by_mode.<mode>.by_strategy``): version 1's single ``total`` added up paper, live and
backtest rows. ``backtests`` says which backtest each strategy's backtest figures are of.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..store.types import plain_decimal_text
from .model import ModeReport, Report, Section

REPORT_VERSION = 3


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-able data (strings, ints, None, dicts, lists)."""
    return {
        "report_version": REPORT_VERSION,
        "database": report.database,
        "generated_at": _plain(report.generated_at),
        "period": {"start": _plain(report.period.start), "end": _plain(report.period.end)},
        "strategies": list(report.strategies),
        "modes": list(report.modes),
        "backtests": _plain(report.backtests),
        "by_mode": {mode: mode_to_dict(part) for mode, part in report.by_mode.items()},
    }


def mode_to_dict(part: ModeReport) -> dict[str, Any]:
    return {
        "strategies": list(part.strategies),
        "total": section_to_dict(part.total),
        "by_strategy": {name: section_to_dict(s) for name, s in part.by_strategy.items()},
    }


def section_to_dict(section: Section) -> dict[str, Any]:
    result: dict[str, Any] = _plain(section)
    return result


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), ensure_ascii=False, indent=2) + "\n"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return plain_decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    raise TypeError(f"cannot put {type(value).__name__} in a report")
