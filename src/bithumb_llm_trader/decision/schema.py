"""The JSON Schema of ``TradeDecision`` for strict structured outputs, and its words.

Both come from ``prompts.answer_format.ANSWER_FIELDS``, the one table the prompt also
reads, so the schema the server enforces and the words the model reads agree.

OpenAI's strict mode wants every property listed in ``required`` (optional ones are
nullable instead) and ``additionalProperties: false``. How the bounds are sent depends
on who enforces them (``Bounds``):

- ``none`` (a server of unknown kind): no numeric ranges or string lengths, since some
  compatible servers refuse those keywords in strict mode, which would cost a fallback
  on every call; the ranges are in each property's ``description``;
- ``range`` (OpenAI, vLLM): ``minimum``/``maximum``/``exclusiveMinimum`` and
  ``maxLength``, which their engines enforce on numbers;
- ``grid`` (llama.cpp, Ollama): llama.cpp's json-schema-to-grammar enforces
  ``minimum``/``maximum`` on integers only, so a bounded decimal is sent as an ``enum``
  of allowed values (a grammar enforces an enum exactly), and the root is an ``anyOf``
  of one object per action and order type, so ``agent_intent`` always fits ``action``
  and ``limit_price`` comes with limit orders only.

``parse_decision`` enforces every bound either way; the schema only spares repairs.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Literal

from ..prompts.answer_format import ANSWER_FIELDS, AnswerField, describe_answer_format

SCHEMA_NAME = "trade_decision"
Bounds = Literal["none", "range", "grid"]

GRID_RATIONALE_MAX = 400
"""``maxLength`` of the rationale for grammar engines: under the parser's 600, and
short enough that the grammar's repetition stays small."""

_GRIDS: dict[str, tuple[str, ...]] = {
    "confidence": tuple(str(Decimal(step) / 20) for step in range(21)),
    "risk_pct": tuple(str(Decimal(step) / 400) for step in range(21)),
    "stop_loss_pct": ("0.005", "0.01", "0.015", "0.02", "0.025", "0.03", "0.04", "0.05",
                      "0.075", "0.1", "0.15", "0.2", "0.3", "0.5"),
    "take_profit_pct": ("0.01", "0.015", "0.02", "0.03", "0.04", "0.05", "0.075", "0.1",
                        "0.15", "0.2", "0.3", "0.5", "1"),
}
"""Allowed values of each bounded decimal when a grammar enforces the schema."""

_INTENTS = {"buy": ("enter_long", "add"), "sell": ("reduce", "exit"), "hold": ("hold",)}
_ORDER_TYPES = {"buy": ("market", "limit"), "sell": ("market", "limit"), "hold": ("market",)}


def decision_json_schema(bounds: Bounds = "none") -> dict[str, Any]:
    """A fresh copy of the JSON Schema of one decision object.

    Args:
        bounds: how numeric bounds are expressed (see the module docstring).
    """
    if bounds == "grid":
        return {"anyOf": [_grid_variant(action, order_type)
                          for action in _INTENTS for order_type in _ORDER_TYPES[action]]}
    return _object({field.name: _property(field, bounds) for field in ANSWER_FIELDS})


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _property(field: AnswerField, bounds: Bounds) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": [field.kind, "null"] if field.nullable else field.kind,
        "description": f"{field.constraint_words()}; {field.meaning}",
    }
    if field.choices:
        schema["enum"] = [*field.choices, None] if field.nullable else list(field.choices)
    if bounds == "range":
        schema.update(_range(field))
    return schema


def _range(field: AnswerField) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    if field.minimum is not None:
        key = "exclusiveMinimum" if field.exclusive_minimum else "minimum"
        keywords[key] = _number(field.minimum)
    if field.maximum is not None:
        keywords["maximum"] = _number(field.maximum)
    if field.max_length is not None:
        keywords["maxLength"] = field.max_length
    return keywords


def _grid_variant(action: str, order_type: str) -> dict[str, Any]:
    """The object for one action and order type: enums everywhere a grammar cannot
    check a range, a limit price only (and always) with a limit order."""
    properties: dict[str, Any] = {}
    for field in ANSWER_FIELDS:
        prop: dict[str, Any]
        if field.name == "action":
            prop = {"enum": [action]}
        elif field.name == "order_type":
            prop = {"enum": [order_type]}
        elif field.name == "limit_price":
            prop = {"type": "number", "exclusiveMinimum": 0} if order_type == "limit" else {
                "enum": [None]}
        elif field.name == "agent_intent":
            prop = {"enum": list(_INTENTS[action])}
        elif field.name == "risk_pct" and action != "buy":
            prop = {"enum": [0]}
        elif field.name in _GRIDS:
            values: list[Any] = [_number(Decimal(v)) for v in _GRIDS[field.name]]
            prop = {"enum": [*values, None] if field.nullable else values}
        elif field.name == "rationale":
            prop = {"type": "string", "maxLength": GRID_RATIONALE_MAX}
        else:
            prop = _property(field, "none")
            prop.pop("description")
        properties[field.name] = prop
    return _object(properties)


def _number(value: Decimal) -> int | float:
    """A JSON number that prints as written: ``0.05``, not ``0.05000000000000000277``."""
    return int(value) if value == value.to_integral_value() else float(value)


def json_schema_response_format(bounds: Bounds = "none", *, strict: bool = True
                                ) -> dict[str, Any]:
    """The ``response_format`` value asking for (strict) structured output."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": strict,
                        "schema": decision_json_schema(bounds)},
    }


def schema_in_words() -> str:
    """The answer format in plain words (the same text the prompt's system part has)."""
    return describe_answer_format()


def schema_instruction() -> str:
    """What to add to the system text when the server does not enforce the schema.

    Used with ``json_object`` and plain-text output: the words are already in the
    prompt, so this adds the machine-readable schema and asks for the object alone.
    """
    compact = json.dumps(decision_json_schema(), separators=(",", ":"))
    return (
        "Reply with the JSON object only, without any other text. Its JSON Schema:\n"
        + compact
    )


_BOUNDS: dict[str, Bounds] = {"openai": "range", "vllm": "range", "llamacpp": "grid",
                              "ollama": "grid"}


def bounds_for(kind: str) -> Bounds:
    """How a server of ``kind`` gets the bounds: ranges, enum grids, or none (unknown)."""
    return _BOUNDS.get(kind, "none")


def request_fields(response_format: str, kind: str) -> dict[str, Any]:
    """The request-body fields that ask a server of ``kind`` for ``response_format``.

    ``json_schema``: OpenAI's strict structured outputs (Ollama hands it to its native
    ``format``); ``json_object_schema``: llama.cpp's ``json_object`` with a ``schema``;
    ``guided_json``: vLLM's field for a schema; ``json_object``: JSON, shape unchecked;
    ``text``: nothing (a strict server could refuse anything else).
    """
    bounds = bounds_for(kind)
    if response_format == "json_schema":
        return {"response_format": json_schema_response_format(bounds)}
    if response_format == "json_object_schema":
        return {"response_format": {"type": "json_object",
                                    "schema": decision_json_schema(bounds)}}
    if response_format == "guided_json":
        return {"guided_json": decision_json_schema(bounds)}
    if response_format == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}
