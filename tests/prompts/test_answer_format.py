"""The answer format in words."""

from __future__ import annotations

from decimal import Decimal

from bithumb_llm_trader.prompts import ANSWER_FIELDS, AnswerField, describe_answer_format


def test_every_field_has_one_line() -> None:
    lines = describe_answer_format().splitlines()
    assert len(lines) == 1 + len(ANSWER_FIELDS)
    assert "0.02 means 2%" in lines[0]


def test_constraint_words() -> None:
    assert AnswerField("x", "number", "m", minimum=Decimal(0), maximum=Decimal(1)) \
        .constraint_words() == "number >= 0 and <= 1"
    assert AnswerField("x", "number", "m", nullable=True, minimum=Decimal(0),
                       exclusive_minimum=True).constraint_words() == "number > 0, or null"
    assert AnswerField("x", "string", "m", max_length=5).constraint_words() == (
        "string of at most 5 characters"
    )
    assert AnswerField("x", "string", "m", choices=("a", "b")).constraint_words() == (
        'one of "a", "b"'
    )
    assert AnswerField("x", "number", "m").constraint_words() == "number"
