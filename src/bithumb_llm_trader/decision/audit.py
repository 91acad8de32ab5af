"""The audit trail of one decision: what was asked and what came back, as store records.

Every decision, HOLD after a fault included, is written as a pair of rows
(``llm_decision_requests`` and ``llm_signals``) so a report can show what the model
saw, what it said, what was wrong with it and what it cost. The request row holds the
prompt as sent (schema text and candle shrinking included) and every message of every
conversation; the signal row every HTTP request with its raw answer. A shadow model's
outcome becomes a pair of its own, marked ``shadow``, with the primary's run id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..prompts.model import Prompt
from ..records import DecisionRequestRecord, JsonDict, SignalRecord
from .model import DecisionOutcome, RequestAudit, TradeDecision


def public_base_url(url: str | None) -> str | None:
    """``url`` without user, password, query or fragment: the parts that may hold keys.

    ``https://user:sk-123@host/v1?api-key=x`` becomes ``https://host/v1``.
    """
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


_NOTHING_SENT = RequestAudit()
"""The audit of a decider that sent nothing (rules, a cache hit); frozen, so shared."""


def decision_payload(decision: TradeDecision) -> JsonDict:
    """The decision as a JSON-able dict: enums as their values, numbers as Decimals."""
    # Its fields are plain values but the two enums: a copy of them is what model_dump
    # gives, for an eighth of the cost (one for every decision of a backtest).
    return {**decision.__dict__, "action": decision.action.value,
            "agent_intent": decision.agent_intent.value}


def decision_records(
    outcome: DecisionOutcome,
    prompt: Prompt,
    *,
    run_id: str,
    strategy: str,
    request_id: str,
    created_at: datetime,
) -> tuple[DecisionRequestRecord, SignalRecord]:
    """The request row and the signal row of one decision."""
    common: dict[str, Any] = {
        "request_id": request_id,
        "run_id": run_id,
        "strategy": strategy,
        "created_at": created_at,
    }
    audit = outcome.audit or _NOTHING_SENT
    request = DecisionRequestRecord(
        **common,
        decider=outcome.decider,
        model=outcome.model,
        base_url=public_base_url(outcome.base_url),
        prompt_version=prompt.version,
        response_format=outcome.response_format,
        system_prompt=prompt.system if audit.system is None else audit.system,
        user_prompt=prompt.user if audit.user is None else audit.user,
        prompt_hash=prompt.digest,
        shadow=outcome.shadow,
        server_kind=audit.server_kind,
        messages_json=list(audit.conversations) or None,
        prompt_candles=audit.candles,
        candles_dropped=audit.candles_dropped,
        estimated_tokens=audit.estimated_tokens,
        context_tokens=audit.context_tokens,
    )
    return request, _signal(outcome, audit, common)


def shadow_records(
    outcome: DecisionOutcome,
    prompt: Prompt,
    *,
    run_id: str,
    strategy: str,
    request_id: str,
    created_at: datetime,
) -> list[DecisionRequestRecord | SignalRecord]:
    """The rows of the shadow models' outcomes beside the primary ``outcome``; each
    request id is the primary's with ``-s1``, ``-s2`` ... appended."""
    rows: list[DecisionRequestRecord | SignalRecord] = []
    for index, shadow in enumerate(outcome.shadows, start=1):
        rows.extend(decision_records(shadow, prompt, run_id=run_id, strategy=strategy,
                                     request_id=f"{request_id}-s{index}",
                                     created_at=created_at))
    return rows


def _signal(outcome: DecisionOutcome, audit: RequestAudit,
            common: dict[str, Any]) -> SignalRecord:
    decision = outcome.decision
    return SignalRecord(
        **common,
        action=decision.action.value,
        confidence=decision.confidence,
        agent_intent=decision.agent_intent.value,
        payload_json=decision_payload(decision),
        raw_text=outcome.raw_text,
        parse_errors_json=list(outcome.errors),
        hold_reason=outcome.hold_reason,
        attempts=outcome.attempts,
        latency_ms=outcome.latency_ms,
        prompt_tokens=outcome.prompt_tokens,
        completion_tokens=outcome.completion_tokens,
        cost_usd=outcome.cost_usd,
        response_format=outcome.response_format,
        fallback_used=outcome.fallback_used,
        cached=outcome.cached,
        shadow=outcome.shadow,
        http_json=list(audit.http) or None,
        tokens_estimated=audit.tokens_estimated,
    )
