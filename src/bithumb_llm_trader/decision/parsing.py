"""Turning a model's answer into a ``TradeDecision``, or a list of what is wrong with it.

The answer is untrusted input. It is accepted as a JSON object, or as text holding
exactly one fenced (```json ... ```) or bare JSON object; numbers become ``Decimal``
without passing through float; a number given as text (``"0.95"``) or a boolean is
refused; ``NaN`` and ``Infinity`` are refused; a key given twice
is refused rather than silently taking the last value. Every problem is reported field
by field (``confidence: must be <= 1 (got 1.5)``) so the errors can be sent back to the
model for repair and stored for the audit trail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ..errors import DecisionError
from .model import TradeDecision

MAX_ANSWER_CHARS = 20_000
"""Longer answers are refused unread: a decision object is a few hundred characters."""

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
_OPEN_FENCE = re.compile(r"\s*```[ \t]*(?:json|JSON)?[ \t]*\r?\n?")
_BOUND_WORDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_decision(raw: str | Mapping[str, Any]) -> TradeDecision:
    """Validate a model's answer.

    Args:
        raw: the answer text, or an already-decoded JSON object.

    Returns:
        The validated decision.

    Raises:
        DecisionError: with ``.errors`` listing each problem, field by field.
    """
    data = _object_from_text(raw) if isinstance(raw, str) else _exact_numbers(raw)
    try:
        return TradeDecision.model_validate(data)
    except ValidationError as exc:
        errors = [describe_error(error) for error in exc.errors(include_url=False)]
        raise DecisionError("invalid decision: " + "; ".join(errors), errors) from exc


def _fail(message: str) -> DecisionError:
    return DecisionError(f"invalid decision: {message}", [message])


def _object_from_text(text: str) -> dict[str, Any]:
    if len(text) > MAX_ANSWER_CHARS:
        raise _fail(f"response: {len(text)} characters is too long for one decision")
    # The whole text first: the usual answer, and backticks inside its rationale must
    # not be taken for a fence.
    decoded = _decoded_or_none(text.strip())
    if decoded is not None:
        return decoded
    body = _unfenced(text)
    if not body:
        raise _fail("response: no JSON object found (the answer is empty)")
    decoded = _decoded_or_none(body) if body != text.strip() else None
    if decoded is not None:
        return decoded
    if body.startswith("{"):  # meant to be JSON: say why the first object is not
        _raise_if_broken_at_start(body)
    return _single_embedded_object(body)


def _decoded_or_none(text: str) -> dict[str, Any] | None:
    """The JSON object ``text`` is; ``None`` when it is not JSON at all."""
    try:
        return _as_object(_load(text))
    except json.JSONDecodeError:
        return None


def _raise_if_broken_at_start(body: str) -> None:
    try:
        _decoder().raw_decode(body, 0)
    except json.JSONDecodeError as exc:
        raise _fail(
            f"response: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg} "
            "(is the answer cut off?)"
        ) from exc
    except (ValueError, RecursionError):
        pass  # a duplicate key or an oversized number: _single_embedded_object says so


def _unfenced(text: str) -> str:
    blocks = _FENCE.findall(text)
    if len(blocks) > 1:
        raise _fail(f"response: {len(blocks)} fenced code blocks; expected exactly one")
    if blocks:
        return str(blocks[0]).strip()
    opened = _OPEN_FENCE.match(text)  # a fence cut off before its end: a truncated answer
    return (text[opened.end():] if opened else text).strip()


def _single_embedded_object(body: str) -> dict[str, Any]:
    """The one JSON object inside prose, found by trying to decode at each ``{``."""
    decoder = _decoder()
    found: list[dict[str, Any]] = []
    position = body.find("{")
    while position != -1:
        try:
            value, end = decoder.raw_decode(body, position)
        except _DuplicateKey as exc:
            raise _fail(f"{exc.key}: given more than once") from exc
        except (ValueError, RecursionError):  # not JSON from here: try the next brace
            position = body.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        position = body.find("{", end)
    if not found:
        raise _fail("response: no JSON object found")
    if len(found) > 1:
        raise _fail(f"response: {len(found)} JSON objects found; expected exactly one")
    return found[0]


def _load(body: str) -> Any:
    try:
        return _decoder().decode(body)
    except _DuplicateKey as exc:
        raise _fail(f"{exc.key}: given more than once") from exc
    except RecursionError as exc:
        raise _fail("response: JSON nested too deeply") from exc
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise _fail(f"response: invalid JSON: {exc}") from exc  # e.g. a 5,000-digit int


def _decoder() -> json.JSONDecoder:
    # NaN and +-Infinity become non-finite Decimals, which the model refuses field by
    # field ("confidence: must be a finite number (got NaN)"). A raw newline or tab
    # inside a string (small models put them in the rationale) is read as itself
    # (strict=False) rather than costing a repair: the text is free-form anyway.
    return json.JSONDecoder(
        strict=False,
        parse_float=Decimal,
        parse_constant=Decimal,
        object_pairs_hook=_no_duplicates,
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"response: expected a JSON object, got {_json_type(value)}")
    return value


def _exact_numbers(data: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping's floats as the Decimal of their shortest repr (``0.1`` stays 0.1)."""
    return {
        str(key): Decimal(repr(value)) if isinstance(value, float) else value
        for key, value in data.items()
    }


def describe_error(error: ErrorDetails) -> str:
    """One pydantic error as ``field: what is wrong (got value)``."""
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    context = error.get("ctx") or {}
    got = f" (got {_shown(error.get('input'))})"
    if kind == "missing":
        return f"{field}: required field is missing"
    if kind == "extra_forbidden":
        return f"{field}: unknown field"
    if kind in _BOUND_WORDS:
        key, symbol = _BOUND_WORDS[kind]
        return f"{field}: must be {symbol} {context.get(key)}{got}"
    if kind == "finite_number":
        return f"{field}: must be a finite number{got}"
    if kind in ("decimal_type", "decimal_parsing"):
        return f"{field}: must be a number{got}"
    if kind == "number_type":
        quoted = "; write it without quotes" if _is_number_text(error["input"]) else ""
        return f"{field}: must be a number{got}{quoted}"
    if kind in ("enum", "literal_error"):
        return f"{field}: must be one of {context.get('expected')}{got}"
    if kind == "string_type":
        return f"{field}: must be a string{got}"
    if kind == "string_too_long":
        length = len(error["input"]) if isinstance(error["input"], str) else "?"
        return f"{field}: must be at most {context.get('max_length')} characters (got {length})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def _is_number_text(value: Any) -> bool:
    """Whether ``value`` is a number written as text, like ``"0.95"``."""
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value.strip()).is_finite()
    except ArithmeticError:  # decimal.InvalidOperation: not a number at all
        return False


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        text = str(value)
    elif value is None or isinstance(value, (bool, int, list, dict)):
        text = json.dumps(value, default=str)
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
