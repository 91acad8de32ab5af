"""What a decider may answer, and what deciding cost.

``TradeDecision`` is closed and bounded: the model's output is untrusted input, so
anything outside these fields and ranges is refused and becomes HOLD upstream. Its
numbers are numbers: text (``"0.95"``) and booleans are refused rather than coerced,
since a model that quotes a number has not answered in the format it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

RATIONALE_MAX = 600
NUMBER_FIELDS = ("confidence", "risk_pct", "stop_loss_pct", "take_profit_pct", "limit_price")
"""The ``Decimal`` fields of ``TradeDecision``: JSON numbers only, read exactly."""


class Action(str, Enum):
    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


class AgentIntent(str, Enum):
    """Why the agent wants the action; sells size from it (``reduce`` or ``exit``)."""

    ENTER_LONG = "enter_long"
    ADD = "add"
    REDUCE = "reduce"
    EXIT = "exit"
    HOLD = "hold"


_INTENTS_FOR = {
    Action.BUY: {AgentIntent.ENTER_LONG, AgentIntent.ADD},
    Action.SELL: {AgentIntent.REDUCE, AgentIntent.EXIT},
    Action.HOLD: {AgentIntent.HOLD},
}


class TradeDecision(BaseModel):
    """A validated trading decision.

    Fractions are fractions: ``risk_pct`` 0.01 risks 1% of equity; ``stop_loss_pct``
    0.02 puts the stop 2% below entry. ``limit_price`` is in KRW and only for limits.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    action: Action
    confidence: Decimal = Field(ge=0, le=1, allow_inf_nan=False)
    risk_pct: Decimal = Field(Decimal(0), ge=0, le=Decimal("0.05"), allow_inf_nan=False)
    stop_loss_pct: Decimal | None = Field(None, gt=0, le=Decimal("0.5"), allow_inf_nan=False)
    take_profit_pct: Decimal | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    order_type: Literal["market", "limit"] = "market"
    limit_price: Decimal | None = Field(None, gt=0, allow_inf_nan=False)
    agent_intent: AgentIntent
    rationale: str = Field("", max_length=RATIONALE_MAX)

    @field_validator(*NUMBER_FIELDS, mode="before")
    @classmethod
    def _number_not_text(cls, value: object) -> object:
        """Refuse text and booleans; a float becomes the Decimal of its shortest repr."""
        if isinstance(value, (str, bool)):
            raise PydanticCustomError("number_type", "Input should be a number, not text")
        if isinstance(value, float):
            return Decimal(repr(value))  # 0.1 stays 0.1, NaN stays NaN (and is refused)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TradeDecision:
        if self.agent_intent not in _INTENTS_FOR[self.action]:
            allowed = ", ".join(sorted(i.value for i in _INTENTS_FOR[self.action]))
            raise ValueError(
                f"agent_intent {self.agent_intent.value!r} does not fit action "
                f"{self.action.value!r} (expected one of: {allowed})"
            )
        if self.order_type == "limit" and self.limit_price is None:
            raise ValueError("order_type 'limit' needs a limit_price")
        if self.order_type == "market" and self.limit_price is not None:
            raise ValueError("limit_price is only for order_type 'limit'")
        return self

    @classmethod
    def hold(cls, rationale: str) -> TradeDecision:
        """The safe answer to any fault: do nothing, and say why."""
        return cls(
            action=Action.HOLD,
            confidence=Decimal(0),
            agent_intent=AgentIntent.HOLD,
            rationale=rationale[:RATIONALE_MAX],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionOutcome:
    """A decision plus the audit trail of how it was reached.

    ``decision`` is always valid; on any model fault it is HOLD and ``hold_reason``
    says why (``invalid_output``, ``refusal``, ``truncated``, ``empty``, ``timeout``,
    ``connection_error``, ``invalid_response`` (a body that is no chat completion),
    ``auth``, ``rate_limited``, ``server_error``, ``bad_request``, ...).
    """

    decision: TradeDecision
    decider: str  # "llm" or "rules"
    model: str | None = None
    base_url: str | None = None
    raw_text: str | None = None
    errors: tuple[str, ...] = ()
    hold_reason: str | None = None
    attempts: int = 1
    latency_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal | None = None
    response_format: str | None = None
    fallback_used: bool = False
    cached: bool = False
    extra: dict[str, str] = field(default_factory=dict)
