"""The answer the model must give, field by field: one table, two renderings.

The prompt describes the answer in words (``describe_answer_format``) and the decision
layer turns the same table into a strict JSON Schema (``decision.schema``), so the words
the model reads and the schema the server enforces cannot drift apart. The table lives
here, below ``decision`` in the import order, because the prompt may not import the
decision package; a test in ``tests/decision`` checks it against ``TradeDecision``.

Numeric bounds are kept out of the JSON Schema (many OpenAI-compatible servers reject
``minimum``/``maxLength`` in strict mode) and stated in the words instead; the parser
enforces them either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

FieldKind = Literal["string", "number"]


@dataclass(frozen=True, slots=True)
class AnswerField:
    """One field of the decision object as the model is told about it.

    Attributes:
        name: the JSON key.
        kind: the JSON type when not null.
        meaning: what the value means, in a few words.
        choices: the allowed strings, when the field is an enumeration.
        nullable: whether ``null`` is allowed (the field is still always present).
        minimum: smallest allowed number (inclusive unless ``exclusive_minimum``).
        maximum: largest allowed number, inclusive.
        exclusive_minimum: the number must be strictly above ``minimum``.
        max_length: longest allowed string, in characters.
    """

    name: str
    kind: FieldKind
    meaning: str
    choices: tuple[str, ...] = ()
    nullable: bool = False
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    exclusive_minimum: bool = False
    max_length: int | None = None

    def constraint_words(self) -> str:
        """The allowed values in words, e.g. ``number > 0 and <= 0.5, or null``."""
        if self.choices:
            text = "one of " + ", ".join(f'"{choice}"' for choice in self.choices)
        elif self.kind == "number":
            text = "number" + self._range_words()
        else:
            text = "string"
            if self.max_length is not None:
                text += f" of at most {self.max_length} characters"
        return text + (", or null" if self.nullable else "")

    def _range_words(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.exclusive_minimum else '>='} {self.minimum}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum}")
        return (" " + " and ".join(parts)) if parts else ""


ANSWER_FIELDS: tuple[AnswerField, ...] = (
    AnswerField("action", "string", "what to do now", choices=("buy", "sell", "hold")),
    AnswerField(
        "agent_intent",
        "string",
        'why: buy takes "enter_long" when flat or "add" when holding; sell takes "reduce" '
        'or "exit"; hold takes "hold"',
        choices=("enter_long", "add", "reduce", "exit", "hold"),
    ),
    AnswerField(
        "confidence", "number", "how sure you are", minimum=Decimal(0), maximum=Decimal(1)
    ),
    AnswerField(
        "risk_pct",
        "number",
        "fraction of equity lost if the stop is hit; 0 for hold and sell",
        minimum=Decimal(0),
        maximum=Decimal("0.05"),
    ),
    AnswerField(
        "stop_loss_pct",
        "number",
        "stop distance below entry as a fraction; null for the default",
        nullable=True,
        minimum=Decimal(0),
        maximum=Decimal("0.5"),
        exclusive_minimum=True,
    ),
    AnswerField(
        "take_profit_pct",
        "number",
        "take-profit distance above entry as a fraction; null for the default",
        nullable=True,
        minimum=Decimal(0),
        maximum=Decimal(1),
        exclusive_minimum=True,
    ),
    AnswerField(
        "order_type", "string", "market, or limit with a limit_price", choices=("market", "limit")
    ),
    AnswerField(
        "limit_price",
        "number",
        "KRW price of a limit order; null for market orders",
        nullable=True,
        minimum=Decimal(0),
        exclusive_minimum=True,
    ),
    AnswerField(
        "rationale", "string", "the main reasons, briefly", max_length=600
    ),
)
"""Every field of the answer, in the order the model should write them."""


def describe_answer_format() -> str:
    """The answer format in plain words, one line per field, for the system prompt."""
    lines = [
        "Reply with one JSON object with exactly these fields, all present, no others "
        "(fractions are fractions: 0.02 means 2%):"
    ]
    lines.extend(
        f"- {field.name}: {field.constraint_words()}; {field.meaning}" for field in ANSWER_FIELDS
    )
    return "\n".join(lines)
