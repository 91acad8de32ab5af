"""The JSON Schema of ``TradeDecision`` for strict structured outputs, and its words.

Both come from ``prompts.answer_format.ANSWER_FIELDS``, the one table the prompt also
reads, so the schema the server enforces and the words the model reads agree.

OpenAI's strict mode wants every property listed in ``required`` (optional ones are
nullable instead) and ``additionalProperties: false``. Numeric ranges and string
lengths are left out on purpose: several OpenAI-compatible servers refuse those
keywords in strict mode, which would cost a fallback on every call; the ranges are in
each property's ``description`` and ``parse_decision`` enforces them anyway.
"""

from __future__ import annotations

import json
from typing import Any

from ..prompts.answer_format import ANSWER_FIELDS, AnswerField, describe_answer_format

SCHEMA_NAME = "trade_decision"


def decision_json_schema() -> dict[str, Any]:
    """A fresh copy of the strict JSON Schema of one decision object."""
    return {
        "type": "object",
        "properties": {field.name: _property(field) for field in ANSWER_FIELDS},
        "required": [field.name for field in ANSWER_FIELDS],
        "additionalProperties": False,
    }


def _property(field: AnswerField) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": [field.kind, "null"] if field.nullable else field.kind,
        "description": f"{field.constraint_words()}; {field.meaning}",
    }
    if field.choices:
        schema["enum"] = [*field.choices, None] if field.nullable else list(field.choices)
    return schema


def json_schema_response_format() -> dict[str, Any]:
    """The ``response_format`` value asking for strict structured output."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": decision_json_schema()},
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
