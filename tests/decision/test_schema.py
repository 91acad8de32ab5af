"""The answer table, the strict JSON Schema and TradeDecision must agree."""

from __future__ import annotations

import json
import typing
from decimal import Decimal
from enum import Enum
from typing import Any

import annotated_types
import pytest

from bithumb_llm_trader.decision import (
    Action,
    AgentIntent,
    TradeDecision,
    decision_json_schema,
    json_schema_response_format,
    schema_in_words,
)
from bithumb_llm_trader.decision.schema import schema_instruction
from bithumb_llm_trader.prompts import ANSWER_FIELDS, AnswerField

FIELDS = {field.name: field for field in ANSWER_FIELDS}


_BOUND_TYPES = {
    "ge": annotated_types.Ge,
    "gt": annotated_types.Gt,
    "le": annotated_types.Le,
    "max_length": annotated_types.MaxLen,
}


def _metadata(name: str) -> dict[str, Any]:
    """The model's bounds on field ``name``, as ``{"ge": 0, "le": 1}``."""
    return {
        key: getattr(item, key)
        for item in TradeDecision.model_fields[name].metadata
        for key, kind in _BOUND_TYPES.items()
        if isinstance(item, kind)
    }


def test_the_table_names_exactly_the_model_s_fields() -> None:
    assert set(FIELDS) == set(TradeDecision.model_fields)


def test_choices_match_the_model_s_enums_and_literals() -> None:
    assert FIELDS["action"].choices == tuple(a.value for a in Action)
    assert FIELDS["agent_intent"].choices == tuple(i.value for i in AgentIntent)
    order_type = TradeDecision.model_fields["order_type"].annotation
    assert FIELDS["order_type"].choices == typing.get_args(order_type)


@pytest.mark.parametrize("name", sorted(TradeDecision.model_fields))
def test_bounds_and_nullability_match_the_model(name: str) -> None:
    field: AnswerField = FIELDS[name]
    info = TradeDecision.model_fields[name]
    assert field.nullable == (type(None) in typing.get_args(info.annotation))
    bounds = _metadata(name)
    if "gt" in bounds:
        assert (field.minimum, field.exclusive_minimum) == (bounds["gt"], True)
    elif "ge" in bounds:
        assert (field.minimum, field.exclusive_minimum) == (bounds["ge"], False)
    else:
        assert field.minimum is None
    assert field.maximum == bounds.get("le")
    assert field.max_length == bounds.get("max_length")
    is_number = info.annotation in (Decimal, Decimal | None)
    is_choice = isinstance(info.annotation, type) and issubclass(info.annotation, Enum)
    assert field.kind == ("number" if is_number else "string")
    assert bool(field.choices) == (is_choice or name == "order_type")


def test_the_schema_is_strict_mode_shaped() -> None:
    schema = decision_json_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == list(schema["properties"])
    assert list(schema["properties"]) == [field.name for field in ANSWER_FIELDS]
    for name, prop in schema["properties"].items():
        nullable = FIELDS[name].nullable
        assert ("null" in prop["type"]) == nullable
        assert prop["description"]
        # keywords some compatible servers refuse in strict mode stay out
        assert not {"minimum", "maximum", "exclusiveMinimum", "maxLength", "default"} & set(prop)
    assert schema["properties"]["action"]["enum"] == ["buy", "sell", "hold"]
    assert schema["properties"]["stop_loss_pct"]["type"] == ["number", "null"]


def test_each_call_returns_a_fresh_schema() -> None:
    schema = decision_json_schema()
    schema["properties"].clear()
    assert decision_json_schema()["properties"]


def test_the_response_format_wraps_the_schema() -> None:
    response_format = json_schema_response_format()
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["name"] == "trade_decision"
    assert response_format["json_schema"]["schema"] == decision_json_schema()


def test_the_words_name_every_field_with_its_bounds() -> None:
    words = schema_in_words()
    for field in ANSWER_FIELDS:
        assert f"- {field.name}: " in words
    assert "- confidence: number >= 0 and <= 1;" in words
    assert "- stop_loss_pct: number > 0 and <= 0.5, or null;" in words
    assert "- rationale: string of at most 600 characters;" in words
    assert '- action: one of "buy", "sell", "hold";' in words


def test_the_text_fallback_instruction_carries_the_schema() -> None:
    text = schema_instruction()
    schema_text = text[text.index("{"):]
    assert json.loads(schema_text) == decision_json_schema()
