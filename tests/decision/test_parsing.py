"""parse_decision: what is accepted, and field-by-field errors for everything else."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bithumb_llm_trader.decision import Action, AgentIntent, TradeDecision, parse_decision
from bithumb_llm_trader.decision.audit import decision_payload
from bithumb_llm_trader.decision.cache import load_cached_decision, save_decision
from bithumb_llm_trader.errors import DecisionError
from tests.decision.llm_helpers import DictCache

HOLD = {
    "action": "hold",
    "agent_intent": "hold",
    "confidence": 0.4,
    "risk_pct": 0,
    "stop_loss_pct": None,
    "take_profit_pct": None,
    "order_type": "market",
    "limit_price": None,
    "rationale": "no edge",
}


def errors_of(raw: Any) -> tuple[str, ...]:
    with pytest.raises(DecisionError) as caught:
        parse_decision(raw)
    return caught.value.errors


def test_a_json_object_text_is_parsed_with_exact_decimals() -> None:
    text = '{"action": "sell", "agent_intent": "exit", "confidence": 0.1, "risk_pct": 0}'
    decision = parse_decision(text)
    assert decision.action is Action.SELL
    assert decision.agent_intent is AgentIntent.EXIT
    assert decision.confidence == Decimal("0.1")  # not 0.1000000000000000055...
    assert isinstance(decision.confidence, Decimal)


def test_a_mapping_is_accepted_and_its_floats_kept_exact() -> None:
    decision = parse_decision({**HOLD, "confidence": 0.1})
    assert decision.confidence == Decimal("0.1")


def test_a_limit_order_needs_and_keeps_its_price() -> None:
    decision = parse_decision(
        {**HOLD, "action": "buy", "agent_intent": "add", "order_type": "limit",
         "limit_price": 150800000, "risk_pct": Decimal("0.004")}
    )
    assert decision.limit_price == Decimal(150_800_000)
    assert decision.risk_pct == Decimal("0.004")


@pytest.mark.parametrize(
    "wrap",
    [
        lambda t: f"```json\n{t}\n```",
        lambda t: f"```\n{t}\n```",
        lambda t: f"Here is my decision:\n```json\n{t}\n```\nThanks.",
        lambda t: f"My decision: {t} -- that's all.",
        lambda t: f"  \n{t}\n\n",
    ],
    ids=["fence", "plain-fence", "fence-in-prose", "bare-in-prose", "whitespace"],
)
def test_one_fenced_or_bare_object_in_text_is_found(wrap: Any) -> None:
    assert parse_decision(wrap(json.dumps(HOLD))).action is Action.HOLD


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({**HOLD, "confidence": 1.5}, "confidence: must be <= 1 (got 1.5)"),
        ({**HOLD, "confidence": -0.1}, "confidence: must be >= 0 (got -0.1)"),
        ({**HOLD, "stop_loss_pct": 0}, "stop_loss_pct: must be > 0 (got 0)"),
        ({**HOLD, "take_profit_pct": 2}, "take_profit_pct: must be <= 1 (got 2)"),
        ({**HOLD, "leverage": 3}, "leverage: unknown field"),
        ({**HOLD, "action": "short"},
         "action: must be one of 'buy', 'sell' or 'hold' (got 'short')"),
        ({**HOLD, "order_type": "stop"}, "order_type: must be one of 'market' or 'limit'"),
        ({**HOLD, "confidence": "high"}, "confidence: must be a number (got 'high')"),
        ({**HOLD, "risk_pct": True}, "risk_pct: must be a number (got true)"),
        ({**HOLD, "risk_pct": None}, "risk_pct: must be a number (got null)"),
        ({**HOLD, "rationale": ["a"]}, 'rationale: must be a string (got ["a"])'),
        ({**HOLD, "rationale": "x" * 601}, "rationale: must be at most 600 characters (got 601)"),
        ({k: v for k, v in HOLD.items() if k != "action"}, "action: required field is missing"),
        ({**HOLD, "agent_intent": "add"}, "agent_intent 'add' does not fit action 'hold'"),
        ({**HOLD, "order_type": "limit"}, "order_type 'limit' needs a limit_price"),
        ({**HOLD, "confidence": float("nan")}, "confidence: must be a finite number (got NaN)"),
    ],
)
def test_each_problem_is_named_field_by_field(raw: dict[str, Any], expected: str) -> None:
    errors = errors_of(raw)
    assert any(error.startswith(expected) for error in errors), errors


def test_all_field_errors_are_listed_together() -> None:
    errors = errors_of({**HOLD, "confidence": 3, "risk_pct": 1, "leverage": 2})
    assert errors == (
        "confidence: must be <= 1 (got 3)",
        "risk_pct: must be <= 0.05 (got 1)",
        "leverage: unknown field",
    )


@pytest.mark.parametrize(
    ("literal", "shown"), [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity")]
)
def test_nan_and_infinity_are_refused(literal: str, shown: str) -> None:
    text = json.dumps(HOLD).replace('"confidence": 0.4', f'"confidence": {literal}')
    assert errors_of(text) == (f"confidence: must be a finite number (got {shown})",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "response: no JSON object found (the answer is empty)"),
        ("hold, I think", "response: no JSON object found"),
        ("[1, 2]", "response: expected a JSON object, got an array"),
        ('"hold"', "response: expected a JSON object, got a string"),
        ('{"action": "hold", "confidence": 0.', "response: invalid JSON at line 1 column"),
        ('```json\n{"action": "hold", "conf', "response: invalid JSON at line 1 column"),
        ('{"a": 1} or {"b": 2}', "response: 2 JSON objects found; expected exactly one"),
        ('maybe {"a": 1} or {"b": 2}', "response: 2 JSON objects found; expected exactly one"),
        ("```json\n{}\n```\n```json\n{}\n```", "response: 2 fenced code blocks"),
        ('{"action": "hold", "action": "buy"}', "action: given more than once"),
        ('so {"action": "hold", "action": "buy"}', "action: given more than once"),
        ('{"confidence": ' + "9" * 5000 + "}", "response: invalid JSON"),
        ("x" * 20_001, "response: 20001 characters is too long"),
    ],
)
def test_text_that_is_not_one_json_object_is_refused(text: str, expected: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1
    assert errors[0].startswith(expected), errors


def test_the_error_message_carries_all_errors() -> None:
    with pytest.raises(DecisionError, match="confidence: must be <= 1"):
        parse_decision({**HOLD, "confidence": 2})


def test_backticks_inside_a_bare_object_s_rationale_are_fine() -> None:
    text = json.dumps({**HOLD, "rationale": "see ```json {} ``` above"})
    assert parse_decision(text).rationale == "see ```json {} ``` above"


def test_a_lone_surrogate_in_the_rationale_is_refused() -> None:
    errors = errors_of('{"action": "hold", "agent_intent": "hold", "confidence": 0, '
                       '"rationale": "\\ud800"}')
    assert errors[0].startswith("rationale: ")


def test_decimal_strings_are_refused_from_a_model() -> None:
    text = parse_decision(HOLD).model_dump_json()  # Decimals dumped as "0.4"
    assert errors_of(text) == (
        "confidence: must be a number (got '0.4'); write it without quotes",
        "risk_pct: must be a number (got '0'); write it without quotes",
    )


# ---------------------------------------------------------------------------- property


RATIONALE_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="`")


def _fractions(high: str, *, positive: bool = False) -> st.SearchStrategy[Decimal]:
    low = Decimal("0.0001") if positive else Decimal(0)
    return st.decimals(min_value=low, max_value=Decimal(high), places=4)


@st.composite
def valid_decisions(draw: st.DrawFn) -> dict[str, Any]:
    action = draw(st.sampled_from(["buy", "sell", "hold"]))
    intents = {"buy": ["enter_long", "add"], "sell": ["reduce", "exit"], "hold": ["hold"]}
    order_type = draw(st.sampled_from(["market", "limit"]))
    price = draw(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**10), places=4))
    return {
        "action": action,
        "agent_intent": draw(st.sampled_from(intents[action])),
        "confidence": draw(_fractions("1")),
        "risk_pct": draw(_fractions("0.05")),
        "stop_loss_pct": draw(st.none() | _fractions("0.5", positive=True)),
        "take_profit_pct": draw(st.none() | _fractions("1", positive=True)),
        "order_type": order_type,
        "limit_price": price if order_type == "limit" else None,
        # no backticks (a fence inside a fenced answer is ambiguous) and no lone surrogates
        # (not text: refused, as they could not be stored as UTF-8)
        "rationale": draw(st.text(RATIONALE_CHARACTERS, max_size=600)),
    }


def json_with_numbers(data: dict[str, Any]) -> str:
    """JSON text whose Decimals are written as JSON numbers, as a model writes them."""
    parts = [
        f"{json.dumps(key)}: {value if isinstance(value, Decimal) else json.dumps(value)}"
        for key, value in data.items()
    ]
    return "{" + ", ".join(parts) + "}"


@given(valid_decisions(), st.sampled_from(["bare", "fenced", "prose", "mapping"]))
def test_any_valid_decision_round_trips(data: dict[str, Any], form: str) -> None:
    text = json_with_numbers(data)
    raw: str | dict[str, Any] = {
        "bare": text,
        "fenced": f"```json\n{text}\n```",
        "prose": f"Decision follows.\n{text}\nEnd.",
        "mapping": data,
    }[form]
    decision = parse_decision(raw)
    assert decision_payload(decision) == data
    assert parse_decision(json_with_numbers(decision_payload(decision))) == decision


@given(valid_decisions())
def test_any_cached_decision_round_trips_exactly(data: dict[str, Any]) -> None:
    decision = parse_decision(data)
    store = DictCache()
    save_decision(store, "key", "model", decision)  # Decimals stored as exact strings
    assert load_cached_decision(store, "key") == decision


@given(valid_decisions(), st.sampled_from(["confidence", "risk_pct", "stop_loss_pct"]))
def test_any_out_of_range_value_is_named(data: dict[str, Any], name: str) -> None:
    data[name] = Decimal(2)
    errors = errors_of(json_with_numbers(data))
    assert any(error.startswith(f"{name}: must be <=") for error in errors), errors


def test_the_hold_constructor_is_a_valid_decision() -> None:
    hold = TradeDecision.hold("x" * 1000)
    assert parse_decision(decision_payload(hold)) == hold


@given(valid_decisions())
def test_the_payload_is_the_dump_of_the_decision_with_enum_values(data: dict[str, Any]) -> None:
    decision = parse_decision(data)
    dumped = {name: value.value if isinstance(value, Enum) else value
              for name, value in decision.model_dump().items()}
    assert list(decision_payload(decision).items()) == list(dumped.items())  # order too
