"""The language-model decider: any OpenAI-compatible server, through the openai SDK.

This is the one module that imports ``openai`` and ``httpx``. The model's answer is
untrusted input, and the server may be slow, down, rate-limited or older than the
features we ask for, so ``decide`` never raises for any of that: every fault ends in
a HOLD whose ``hold_reason`` and ``errors`` say what happened, with the tokens, cost
and latency of whatever was spent on the way.

One decision, step by step:

1. Cache (when on): same model, server and prompt digest -> the stored decision.
2. Response format: strict ``json_schema``, else ``json_object``, else plain text with
   the schema in the system text (``formats``). A 400 or 500, or an error naming the
   format as unsupported, moves one step down; what answered is remembered per server.
3. Transport: timeouts, connection errors, 429 and 5xx are retried up to
   ``max_retries`` times, waiting on the injected clock (1 s, 2 s, 4 s ... at most
   30 s, or the server's Retry-After); 401/403 give up at once. The SDK's own retries
   are off so that all waiting goes through the clock and tests never sleep.
4. Answer: the raw body is read by ``completion``, not by the SDK: an HTML page, an
   empty body or JSON that is no chat completion is a HOLD, not retried. So is a
   refusal, a cut-off answer (``finish_reason == "length"``) or an empty one;
   otherwise ``parse_decision``. Invalid output is sent back with its errors, field
   by field, up to ``repair_attempts`` times.

Each HOLD is logged once, as one warning line without a traceback.

The output limit is sent as ``max_tokens``, not ``max_completion_tokens``: every
OpenAI-compatible server we target (vLLM, Ollama, llama.cpp, LM Studio, Groq,
OpenRouter) and OpenAI's own chat models accept it, while a server that does not know
``max_completion_tokens`` may ignore it and leave the answer's length unbounded.
(OpenAI's reasoning models want the newer name; they answer 400, which ends in HOLD.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from ..config import LLMConfig
from ..errors import DecisionError
from ..market.model import MarketSnapshot
from ..ports import Clock
from ..prompts.model import Prompt
from .audit import public_base_url
from .backoff import BACKOFF_MAX_S, backoff_delay, retry_after_seconds
from .cache import DecisionCacheStore, decision_cache_key, load_cached_decision, save_decision
from .completion import Completion, NotACompletion, describe_body, one_line, read_completion
from .cost import estimate_cost_usd
from .formats import ResponseFormatMemory, ResponseFormatName, formats_to_try
from .model import DecisionOutcome, TradeDecision
from .parsing import parse_decision
from .schema import json_schema_response_format, schema_instruction

logger = logging.getLogger(__name__)

_NO_KEY = "no-key"  # servers without auth ignore it; stops the SDK reading the environment
_TEXT_MAX = 300
_FORMAT_WORDS = ("response_format", "json_schema", "unsupported", "not supported")


@dataclass(frozen=True, slots=True)
class _Fault:
    """Why a request, or a whole decision, produced no usable answer."""

    reason: str  # becomes ``DecisionOutcome.hold_reason``
    message: str
    retryable: bool = False
    retry_after: float | None = None
    format_rejected: bool = False


@dataclass(slots=True)
class _Trace:
    """The audit trail of one ``decide`` call, filled in as it goes."""

    requests: int = 0
    errors: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw_text: str | None = None
    response_format: ResponseFormatName | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def note(self, message: str) -> None:
        self.errors.append(f"request {self.requests} ({self.response_format}): {message}")


class LLMDecisionMaker:
    """A ``ports.Decider`` backed by a chat-completions model.

    Args:
        config: the ``llm`` section of the strategy.
        api_key: the server's key; ``None`` for servers without auth. Never shown in a
            repr, log line or error.
        clock: waits between retries and measures latency.
        http_client: an ``httpx.AsyncClient`` to use (and leave open); by default the
            SDK makes its own, closed by ``aclose``.
        cache: where decisions are cached, used when ``config.cache`` or ``use_cache``.
        formats: what each server accepted this run; share one per run.
        use_cache: overrides ``config.cache`` when not ``None``.
    """

    name = "llm"
    needs_prompt = True

    def __init__(
        self,
        config: LLMConfig,
        *,
        api_key: str | None,
        clock: Clock,
        http_client: httpx.AsyncClient | None = None,
        cache: DecisionCacheStore | None = None,
        formats: ResponseFormatMemory | None = None,
        use_cache: bool | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._secret = api_key or ""
        self._owns_http = http_client is None
        enabled = config.cache if use_cache is None else use_cache
        self._cache = cache if enabled else None
        self._formats = formats if formats is not None else ResponseFormatMemory()
        self._client = openai.AsyncOpenAI(
            api_key=api_key or _NO_KEY,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=0,
            http_client=http_client,
        )
        self.base_url: str = public_base_url(str(self._client.base_url).rstrip("/")) or ""

    def __repr__(self) -> str:
        return f"LLMDecisionMaker(model={self._config.model!r}, base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._client.close()

    async def __aenter__(self) -> LLMDecisionMaker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        """Ask the model; any fault comes back as HOLD with the reason (never raises)."""
        started = self._clock.monotonic()
        key = decision_cache_key(self._config.model, self.base_url, prompt)
        cached = load_cached_decision(self._cache, key) if self._cache is not None else None
        if cached is not None:
            return self._cached_outcome(cached, started)
        trace = _Trace()
        try:
            result = await self._ask(prompt, trace)
        except Exception as exc:  # last resort: a decider must not break the cycle
            logger.debug("the LLM decider failed unexpectedly", exc_info=True)  # -vv only
            result = _Fault("internal_error", f"{type(exc).__name__}: {self._scrub(str(exc))}")
            trace.note(result.message)
        if isinstance(result, TradeDecision) and self._cache is not None:
            save_decision(self._cache, key, self._config.model, result)
        return self._outcome(result, trace, started)

    async def _ask(self, prompt: Prompt, trace: _Trace) -> TradeDecision | _Fault:
        remembered = self._formats.working_format(self.base_url)
        ladder = formats_to_try(self._config.response_format, remembered)
        result: TradeDecision | _Fault = _Fault("no_format", "no response format to try")
        for step, response_format in enumerate(ladder):
            trace.response_format = response_format
            can_fall_back = step < len(ladder) - 1
            result = await self._converse(prompt, response_format, trace, can_fall_back)
            if not (isinstance(result, _Fault) and result.format_rejected):
                return result
            logger.debug("%s refused response_format %s", self.base_url, response_format)
        return result

    async def _converse(
        self,
        prompt: Prompt,
        response_format: ResponseFormatName,
        trace: _Trace,
        can_fall_back: bool,
    ) -> TradeDecision | _Fault:
        """One question, then up to ``repair_attempts`` follow-ups on invalid output."""
        messages = _messages(prompt, response_format)
        answers = self._config.repair_attempts + 1
        for _ in range(answers):
            completion = await self._complete(messages, response_format, trace, can_fall_back)
            if isinstance(completion, _Fault):
                return completion
            self._formats.remember(self.base_url, response_format)
            content = self._content(completion, trace)
            if isinstance(content, _Fault):
                trace.note(content.message)
                return content
            try:
                return parse_decision(content)
            except DecisionError as exc:
                trace.errors.extend(
                    f"request {trace.requests} ({response_format}): {error}"
                    for error in exc.errors
                )
                messages = [*messages, *_repair_messages(content, exc.errors)]
        return _Fault("invalid_output", f"no valid decision in {answers} answer(s)")

    async def _complete(
        self,
        messages: list[ChatCompletionMessageParam],
        response_format: ResponseFormatName,
        trace: _Trace,
        can_fall_back: bool,
    ) -> Completion | _Fault:
        """One request, retried on transient faults (not a 200 with garbage) with backoff."""
        fault = _Fault("no_request", "no request made")
        for retry in range(self._config.max_retries + 1):
            trace.requests += 1
            try:
                response = await self._request(messages, response_format)
                completion = read_completion(
                    response.content, response.headers.get("content-type", "")
                )
            except openai.APIError as exc:
                fault = self._classify(exc, response_format, can_fall_back)
            except NotACompletion as exc:
                fault = _Fault(exc.reason, self._scrub(exc.message))
            else:
                _count_usage(completion, trace)
                return completion
            trace.note(fault.message)
            if not fault.retryable or retry == self._config.max_retries:
                return fault
            delay = backoff_delay(retry, fault.retry_after)
            if delay is None:
                trace.note(f"Retry-After {fault.retry_after}s is over {BACKOFF_MAX_S}s; giving up")
                return fault
            await self._clock.sleep(delay)
        return fault

    async def _request(
        self, messages: list[ChatCompletionMessageParam], response_format: ResponseFormatName
    ) -> httpx.Response:
        """The raw response (the SDK does not check a 200's shape); 4xx/5xx raise."""
        temperature = self._config.temperature
        raw = await self._client.chat.completions.with_raw_response.create(
            model=self._config.model,
            messages=messages,
            response_format=_response_format_param(response_format),
            max_tokens=self._config.max_output_tokens,
            temperature=openai.omit if temperature is None else temperature,
        )
        return raw.http_response

    def _classify(
        self, exc: openai.APIError, response_format: ResponseFormatName, can_fall_back: bool
    ) -> _Fault:
        """What a failed request means: give up, retry, or try a simpler format."""
        if isinstance(exc, openai.APITimeoutError):
            return _Fault("timeout", f"no answer within {self._config.timeout}s", retryable=True)
        if isinstance(exc, openai.APIConnectionError):  # the cause says more than the SDK
            cause = f"{type(exc.__cause__).__name__}: {exc.__cause__}" if exc.__cause__ else exc
            return _Fault("connection_error", self._scrub(f"cannot reach {self.base_url}: {cause}"),
                          retryable=True)
        if not isinstance(exc, openai.APIStatusError):
            return _Fault("invalid_response", self._scrub(f"{type(exc).__name__}: {exc}"))
        status = exc.status_code
        if status in (401, 403):  # the server's text may echo part of the key: leave it out
            return _Fault("auth", f"HTTP {status}: the server refused the key or its rights")
        detail = f"HTTP {status}: {self._scrub(_status_detail(exc))}"
        if can_fall_back and _rejects_format(status, detail):
            return _Fault("format_rejected", f"{response_format} refused: {detail}",
                          format_rejected=True)
        if status == 429 and exc.code == "insufficient_quota":
            return _Fault("quota", detail)
        retry_after = retry_after_seconds(exc.response.headers, self._clock.now())
        if status == 429:
            return _Fault("rate_limited", detail, retryable=True, retry_after=retry_after)
        if status >= 500 or status in (408, 409):
            return _Fault("server_error", detail, retryable=True, retry_after=retry_after)
        return _Fault("bad_request", detail)

    def _content(self, completion: Completion, trace: _Trace) -> str | _Fault:
        """The answer's text, or why there is none worth parsing."""
        trace.extra["finish_reason"] = str(completion.finish_reason)
        trace.extra["response_model"] = str(completion.model)
        if completion.refusal:
            return _Fault("refusal", f"the model refused: {self._scrub(completion.refusal)}")
        content = completion.content
        trace.raw_text = content
        if completion.finish_reason == "length":
            limit = self._config.max_output_tokens
            return _Fault("truncated", f"answer cut off at max_output_tokens={limit}")
        if completion.finish_reason == "content_filter":
            return _Fault("content_filter", "the server's content filter stopped the answer")
        if content is None or not content.strip():
            return _Fault("empty", "the answer is empty")
        return content

    def _outcome(
        self, result: TradeDecision | _Fault, trace: _Trace, started: float
    ) -> DecisionOutcome:
        if isinstance(result, _Fault):
            logger.warning("LLM decision is HOLD (%s): %s", result.reason, result.message)
            decision, hold_reason = TradeDecision.hold(f"{result.reason}: {result.message}"), (
                result.reason
            )
        else:
            decision, hold_reason = result, None
        return DecisionOutcome(
            decision=decision,
            decider=self.name,
            model=self._config.model,
            base_url=self.base_url,
            raw_text=trace.raw_text,
            errors=tuple(trace.errors),
            hold_reason=hold_reason,
            attempts=trace.requests,
            latency_ms=self._elapsed_ms(started),
            prompt_tokens=trace.prompt_tokens,
            completion_tokens=trace.completion_tokens,
            cost_usd=estimate_cost_usd(self._config.model, trace.prompt_tokens,
                                       trace.completion_tokens, self._config.prices),
            response_format=trace.response_format,
            fallback_used=self._config.response_format == "auto"
            and trace.response_format not in (None, "json_schema"),
            extra=trace.extra,
        )

    def _cached_outcome(self, decision: TradeDecision, started: float) -> DecisionOutcome:
        return DecisionOutcome(
            decision=decision,
            decider=self.name,
            model=self._config.model,
            base_url=self.base_url,
            attempts=0,
            latency_ms=self._elapsed_ms(started),
            cost_usd=Decimal(0),
            cached=True,
        )

    def _elapsed_ms(self, started: float) -> int:
        return max(round((self._clock.monotonic() - started) * 1000), 0)

    def _scrub(self, text: str) -> str:
        """``text`` on one line and shortened, with the API key blanked should a server
        echo it (the server's text goes into log lines and the audit trail)."""
        if self._secret:
            text = text.replace(self._secret, "***")
        text = one_line(text)
        return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 3] + "..."


def _messages(
    prompt: Prompt, response_format: ResponseFormatName
) -> list[ChatCompletionMessageParam]:
    system = prompt.system
    if response_format != "json_schema":  # nothing enforces the shape: spell it out
        system = f"{system}\n\n{schema_instruction()}"
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt.user}]


def _repair_messages(answer: str, errors: tuple[str, ...]) -> list[ChatCompletionMessageParam]:
    listed = "\n".join(f"- {error}" for error in errors)
    request = (
        f"Your answer is not a valid decision:\n{listed}\n"
        "Reply again with the corrected JSON object only."
    )
    return [{"role": "assistant", "content": answer}, {"role": "user", "content": request}]


def _response_format_param(response_format: ResponseFormatName) -> ResponseFormat | openai.Omit:
    if response_format == "json_schema":
        return cast(ResponseFormat, json_schema_response_format())
    if response_format == "json_object":
        return {"type": "json_object"}
    return openai.omit  # plain text: send nothing a strict server could refuse


def _rejects_format(status: int, detail: str) -> bool:
    """Whether an error answer means "this server cannot do this response_format".

    Servers without structured outputs answer 400 or 422, some crash with 500; others
    say so in a 4xx message.
    """
    if status in (400, 422, 500):
        return True
    mentions = any(word in detail.lower() for word in _FORMAT_WORDS)
    return 400 <= status < 500 and status not in (404, 429) and mentions


def _status_detail(exc: openai.APIStatusError) -> str:
    """An error's message; a body that is no JSON error (a proxy's page) in a few words."""
    if exc.body is None or isinstance(exc.body, (dict, list)):  # None: the body is unread
        return exc.message
    response = exc.response
    return describe_body(response.content, response.headers.get("content-type", ""))


def _count_usage(completion: Completion, trace: _Trace) -> None:
    trace.prompt_tokens += completion.prompt_tokens
    trace.completion_tokens += completion.completion_tokens
