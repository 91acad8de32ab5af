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
from typing import Any, Literal

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
class RequestAudit:
    """Exactly what a model decider sent and received, for the audit trail.

    Attributes:
        server_kind: the kind of server asked (``openai``, ``llamacpp``, ...).
        system: the system text as last sent (schema text of a fallback included).
        user: the user text as sent (with fewer candles when shrunk).
        conversations: one per response format tried: ``response_format`` (its name),
            ``request`` (the constrained-output fields sent) and ``messages`` (every
            message sent, repair turns included, with the answers between them).
        http: one per HTTP request: which conversation, how many of its messages,
            status, latency, tokens (``tokens_estimated`` when the server never
            counted them) and the raw answer or error.
        candles: candle rows in the prompt sent (``None``: no candle table).
        candles_dropped: rows left out to fit the context.
        estimated_tokens: the calibrated estimate of the first request's prompt.
        context_tokens: the context it was checked against.
        tokens_estimated: some of the outcome's tokens are estimates (abandoned
            requests), not the server's counts.
    """

    server_kind: str | None = None
    system: str | None = None
    user: str | None = None
    conversations: tuple[dict[str, Any], ...] = ()
    http: tuple[dict[str, Any], ...] = ()
    candles: int | None = None
    candles_dropped: int = 0
    estimated_tokens: int | None = None
    context_tokens: int | None = None
    tokens_estimated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionOutcome:
    """A decision plus the audit trail of how it was reached.

    ``decision`` is always valid; on any model fault it is HOLD and ``hold_reason``
    says why (``invalid_output``, ``refusal``, ``truncated``, ``empty``, ``timeout``,
    ``connection_error``, ``invalid_response`` (a body that is no chat completion),
    ``auth``, ``rate_limited``, ``server_error``, ``bad_request``, ``context_overflow``
    (the prompt does not fit the model's context), ...).

    ``shadow`` marks a shadow model's outcome (recorded, never traded); ``shadows``
    holds the shadow models' outcomes beside the primary's.
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
    audit: RequestAudit | None = None
    shadow: bool = False
    shadows: tuple[DecisionOutcome, ...] = ()
