"""The audit trail of one ``LLMDecisionMaker.decide`` call, filled in as it goes.

Kept apart from the decider so the decider reads as the steps it takes; this is only
bookkeeping: what was sent in which conversation, what each HTTP request returned and
took, and the token totals (estimated for requests abandoned at the timeout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .budget import BudgetPlan
from .formats import ResponseFormatName
from .model import RequestAudit

ANSWER_MAX = 20_000
"""Longest raw answer kept per HTTP request (a runaway answer is cut, and says so)."""


@dataclass(slots=True)
class Trace:
    """What one decision sent, received and spent."""

    requests: int = 0
    errors: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw_text: str | None = None
    response_format: ResponseFormatName | None = None
    extra: dict[str, str] = field(default_factory=dict)
    server_kind: str | None = None
    conversations: list[dict[str, Any]] = field(default_factory=list)
    http: list[dict[str, Any]] = field(default_factory=list)
    plan: BudgetPlan | None = None
    tokens_estimated: bool = False

    def note(self, message: str) -> None:
        self.errors.append(f"request {self.requests} ({self.response_format}): {message}")

    def open_conversation(self, response_format: ResponseFormatName,
                          fields: dict[str, Any], messages: Sequence[Any]) -> None:
        """Start recording the messages of one response format."""
        self.conversations.append({"response_format": response_format, "request": fields,
                                   "messages": [dict(m) for m in messages]})

    def add_messages(self, messages: Sequence[Any]) -> None:
        """Messages appended to the current conversation (an answer, a repair turn)."""
        self.conversations[-1]["messages"].extend(dict(m) for m in messages)

    def add_http(self, *, sent: int, status: int | None, latency_ms: int,
                 prompt_tokens: int, completion_tokens: int, estimated: int,
                 fault: str | None, answer: str | None, tokens_estimated: bool = False,
                 ) -> None:
        """One HTTP request: how many of the conversation's messages it sent, and after."""
        if answer is not None and len(answer) > ANSWER_MAX:
            answer = answer[:ANSWER_MAX] + f"... [cut at {ANSWER_MAX} characters]"
        self.http.append({
            "request": self.requests, "conversation": len(self.conversations) - 1,
            "messages": sent, "status": status, "latency_ms": latency_ms,
            "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "estimated_prompt_tokens": estimated, "tokens_estimated": tokens_estimated,
            "fault": fault, "answer": answer,
        })
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.tokens_estimated = self.tokens_estimated or tokens_estimated

    def audit(self) -> RequestAudit:
        plan = self.plan
        # the last conversation's: the prompt of the format that answered (or failed last)
        last = self.conversations[-1]["messages"] if self.conversations else []
        system = next((m["content"] for m in last if m.get("role") == "system"), None)
        user = next((m["content"] for m in last if m.get("role") == "user"), None)
        return RequestAudit(
            server_kind=self.server_kind,
            system=system if isinstance(system, str) else None,
            user=user if isinstance(user, str) else None,
            conversations=tuple(self.conversations),
            http=tuple(self.http),
            candles=plan.candles if plan else None,
            candles_dropped=plan.dropped if plan else 0,
            estimated_tokens=plan.estimated_tokens if plan else None,
            context_tokens=plan.context_tokens if plan else None,
            tokens_estimated=self.tokens_estimated,
        )
