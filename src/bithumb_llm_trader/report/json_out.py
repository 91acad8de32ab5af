"""The report as JSON with stable keys, for scripts and dashboards.

Keys are the field names of ``report.model`` and are always present (a figure that
cannot be computed is ``null``, a count of nothing is ``0``), so a consumer never has to
guess whether a key is missing or zero. Money, prices, volumes, bps and ratios are JSON
strings holding exact decimals (``"100000.5"``): a JSON number would be read back as a
float by most tools. Counts and token numbers are integers. Times are ISO 8601 in UTC.
Bump ``REPORT_VERSION`` when a key changes meaning or disappears.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..store.types import plain_decimal_text
from .model import Report, Section

REPORT_VERSION = 1


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-able data (strings, ints, None, dicts, lists)."""
    return {
        "report_version": REPORT_VERSION,
        "database": report.database,
        "generated_at": _plain(report.generated_at),
        "period": {"start": _plain(report.period.start), "end": _plain(report.period.end)},
        "strategies": list(report.strategies),
        "total": section_to_dict(report.total),
        "by_strategy": {name: section_to_dict(s) for name, s in report.by_strategy.items()},
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
