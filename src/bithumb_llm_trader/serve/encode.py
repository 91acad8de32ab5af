"""Rows as JSON the way ``report --format json`` writes them, and list cursors.

Money, prices and volumes stay exact decimal strings (a JSON number is read back as a
float by most tools), times are ISO 8601 in UTC, JSON columns are passed through. A
model server's URL keeps its host and path only: credentials in a URL's user part or
query never reach an answer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..decision.audit import public_base_url
from ..store.types import plain_decimal_text

URL_FIELDS = frozenset({"base_url"})
"""Columns holding a URL that may embed a secret; shown without user part and query."""
MAX_CURSOR = 600
"""The longest cursor accepted: a time and two ids fit in far less."""


def plain(value: Any) -> Any:
    """``value`` as JSON-able data: Decimals as exact text, datetimes as ISO text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return plain_decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(key): _field(str(key), item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return str(value)


def _field(name: str, value: Any) -> Any:
    if name in URL_FIELDS and isinstance(value, str):
        return public_url(value)
    return plain(value)


def public_url(url: str) -> str:
    """``url`` without credentials (``decision.public_base_url``, which recorded it so);
    a URL too malformed to take apart is hidden whole."""
    try:
        return public_base_url(url) or ""
    except ValueError:
        return "(hidden)"


def encode_cursor(at: datetime, keys: tuple[str, ...]) -> str:
    """An opaque cursor naming the last row of a page: its time and key."""
    text = json.dumps([at.isoformat(), *keys], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, tuple[str, ...]]:
    """The time and key a cursor names.

    Raises:
        ValueError: anything that ``encode_cursor`` did not make.
    """
    if len(cursor) > MAX_CURSOR:
        raise ValueError("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor of this API") from exc
    if not (isinstance(data, list) and 2 <= len(data) <= 3
            and all(isinstance(item, str) for item in data)):
        raise ValueError("not a cursor of this API")
    at = datetime.fromisoformat(data[0])
    if at.utcoffset() is None:
        raise ValueError("not a cursor of this API")
    return at, tuple(data[1:])
