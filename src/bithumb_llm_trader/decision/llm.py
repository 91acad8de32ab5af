"""The language-model decider: any OpenAI-compatible server, through the openai SDK.

This is the one module that imports ``openai`` and ``httpx``. The model's answer is
untrusted input, and the server may be slow, down, rate-limited or older than the
features we ask for, so ``decide`` never raises for any of that: every fault ends in
a HOLD whose ``hold_reason`` and ``errors`` say what happened, with the tokens, cost
and latency of whatever was spent on the way.

One decision, step by step:

1. Cache (when on): same model, server and prompt digest -> the stored decision.
2. Server: its kind and context, asked once per run (``probe``) unless configured.
3. Response format: the kind's constrained output (``formats``, ``schema``), else
   ``json_object``, else plain text with the schema in the system text. A 400 or 500,
   or an error naming the format as unsupported, moves one step down; what answered is
   remembered per server. A context-length error never does: it is ``context_overflow``.
4. Budget: the prompt as it will be sent is estimated against the context
   (``budget``); too long, the candle table is shortened first; each repair turn is
   checked again before it is sent.
5. Transport: timeouts, connection errors, 429 and 5xx are retried up to
   ``max_retries`` times, waiting on the injected clock (1 s, 2 s, 4 s ... at most
   30 s, or the server's Retry-After); 401/403 give up at once. The SDK's own retries
   are off so that all waiting goes through the clock and tests never sleep.
6. Answer: the raw body is read by ``completion``, not by the SDK: an HTML page, an
   empty body or JSON that is no chat completion is a HOLD, not retried. So is a
   refusal, a cut-off answer (``finish_reason == "length"``) or an empty one;
   otherwise ``parse_decision``. Invalid output is sent back with its errors, field
   by field, up to ``repair_attempts`` times.

Each HOLD is logged once, as one warning line without a traceback. Everything sent and
received (messages, request fields, raw answers, per-request latency and tokens) goes
into the outcome's ``audit``; a request abandoned at the timeout counts its estimated
tokens, since the server did the work.

The output limit is sent as ``max_tokens``, not ``max_completion_tokens``: every
OpenAI-compatible server we target (vLLM, Ollama, llama.cpp, LM Studio, Groq,
OpenRouter) and OpenAI's own chat models accept it, while a server that does not know
``max_completion_tokens`` may ignore it and leave the answer's length unbounded.
(OpenAI's reasoning models want the newer name; they answer 400, which ends in HOLD.)
"""


from __future__ import annotations

import functools
import logging
from decimal import Decimal
from typing import Any, cast

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from ..config import LLMConfig
from ..errors import DecisionError
from ..market.model import MarketSnapshot
from ..ports import Clock
from ..prompts.model import Prompt
from .audit import public_base_url
from .backoff import BACKOFF_MAX_S, backoff_delay, retry_after_seconds
from .budget import Budget, BudgetPlan, estimate_messages, plan_prompt
from .cache import DecisionCacheStore, decision_cache_key, load_cached_decision, save_decision
from .completion import Completion, NotACompletion, describe_body, one_line, read_completion
from .cost import estimate_cost_usd
from .faults import Fault, overflow_fault, rejects_format
from .formats import ResponseFormatMemory, ResponseFormatName, ServerState, formats_to_try
from .model import DecisionOutcome, TradeDecision
from .parsing import parse_decision
from .probe import learn_server
from .schema import request_fields
from .server import DEFAULT_CONTEXT_TOKENS
from .trace import Trace
from .turns import Message, answer_text, first_messages, repair_messages, too_long

logger = logging.getLogger(__name__)

_NO_KEY = "no-key"  # servers without auth ignore it; stops the SDK reading the environment
_TEXT_MAX = 300


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
        shadow: this decider is a shadow model: its outcomes say so.
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
        shadow: bool = False,
    ) -> None:
        self._config = config
        self._clock = clock
        self._secret = api_key or ""
        self._owns_http = http_client is None
        enabled = config.cache if use_cache is None else use_cache
        self._cache = cache if enabled else None
        self._formats = formats if formats is not None else ResponseFormatMemory()
        self._shadow = shadow
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

    @property
    def model(self) -> str:
        return self._config.model

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
        trace = Trace()
        try:
            result = await self._ask(prompt, trace)
        except Exception as exc:  # last resort: a decider must not break the cycle
            logger.debug("the LLM decider failed unexpectedly", exc_info=True)  # -vv only
            result = Fault("internal_error", f"{type(exc).__name__}: {self._scrub(str(exc))}")
            trace.note(result.message)
        if isinstance(result, TradeDecision) and self._cache is not None:
            save_decision(self._cache, key, self._config.model, result)
        return self._outcome(result, trace, started)

    async def _server(self) -> ServerState:
        state = self._formats.server(self.base_url)
        model = state.model(self._config.model)
        if state.kind is None or model.context_tokens is None:
            await learn_server(self._get_json, self.base_url, self._config, state)
        return state

    async def _get_json(self, url: str, timeout: float) -> tuple[Any, str]:
        """The JSON of ``GET url`` and its ``server`` header; ``(None, "")`` on any fault."""
        try:
            response = await self._client.get(url, cast_to=httpx.Response,
                                              options={"timeout": timeout, "max_retries": 0})
            if response.status_code != 200:
                return None, response.headers.get("server", "")
            return response.json(), response.headers.get("server", "")
        except Exception:  # a probe must never break a decision: anything is "unknown"
            logger.debug("probing %s failed", url, exc_info=True)
            return None, ""

    async def _ask(self, prompt: Prompt, trace: Trace) -> TradeDecision | Fault:
        state = await self._server()
        trace.server_kind = state.kind
        ladder = formats_to_try(self._config.response_format, state.working,
                                state.kind or "generic")
        result: TradeDecision | Fault = Fault("no_format", "no response format to try")
        step, refitted = 0, False
        while step < len(ladder):
            response_format = ladder[step]
            trace.response_format = response_format
            budget = self._budget(state)
            as_sent = functools.partial(first_messages, response_format=response_format)
            plan = plan_prompt(prompt, budget, as_sent)
            trace.plan = plan
            if not plan.fits:
                fault = too_long(plan, budget)
                trace.note(fault.message)
                return fault
            result = await self._converse(plan, budget, response_format, trace,
                                          step < len(ladder) - 1)
            if isinstance(result, Fault) and result.reason == "context_overflow":
                if refitted or not self._learn_context(state, result):
                    return result
                refitted = True  # the server named a smaller context: fit it once more
                continue
            if not (isinstance(result, Fault) and result.format_rejected):
                return result
            logger.debug("%s refused response_format %s", self.base_url, response_format)
            step += 1
        return result

    def _budget(self, state: ServerState) -> Budget:
        model = state.model(self._config.model)
        return Budget(
            context_tokens=model.context_tokens or DEFAULT_CONTEXT_TOKENS,
            max_output_tokens=self._config.max_output_tokens,
            repair_attempts=self._config.repair_attempts,
            ratio=model.token_ratio,
        )

    def _learn_context(self, state: ServerState, fault: Fault) -> bool:
        """Take a context size an overflow error named; whether it is news."""
        model = state.model(self._config.model)
        named = fault.context_tokens
        if named is None or named >= (model.context_tokens or DEFAULT_CONTEXT_TOKENS):
            return False
        model.context_tokens, model.context_source = named, "server error"
        return True

    async def _converse(
        self,
        plan: BudgetPlan,
        budget: Budget,
        response_format: ResponseFormatName,
        trace: Trace,
        can_fall_back: bool,
    ) -> TradeDecision | Fault:
        """One question, then up to ``repair_attempts`` follow-ups on invalid output."""
        messages: list[Message] = first_messages(plan.prompt, response_format)
        fields = request_fields(response_format, trace.server_kind or "generic")
        trace.open_conversation(response_format, fields, messages)
        answers = self._config.repair_attempts + 1
        for answer in range(answers):
            estimate = estimate_messages(messages)
            if answer > 0 and not budget.fits(budget.scaled(estimate)):
                fault = Fault("context_overflow", "the repair turn would not fit the context"
                              f" of {budget.context_tokens} tokens; not sent")
                trace.note(fault.message)
                return fault
            completion = await self._complete(messages, fields, estimate, budget, trace,
                                              can_fall_back)
            if isinstance(completion, Fault):
                return completion
            self._formats.remember(self.base_url, response_format)
            content = self._content(completion, trace)
            if isinstance(content, Fault):
                trace.note(content.message)
                return content
            try:
                return parse_decision(content)
            except DecisionError as exc:
                trace.errors.extend(
                    f"request {trace.requests} ({response_format}): {error}"
                    for error in exc.errors
                )
                repair = repair_messages(content, exc.errors)
                trace.add_messages(repair)
                messages = [*messages, *repair]
        return Fault("invalid_output", f"no valid decision in {answers} answer(s)")

    async def _complete(
        self,
        messages: list[Message],
        fields: dict[str, Any],
        estimate: int,
        budget: Budget,
        trace: Trace,
        can_fall_back: bool,
    ) -> Completion | Fault:
        """One request, retried on transient faults (not a 200 with garbage) with backoff."""
        fault = Fault("no_request", "no request made")
        for retry in range(self._config.max_retries + 1):
            trace.requests += 1
            sent = self._clock.monotonic()
            status: int | None = None
            try:
                response = await self._request(messages, fields)
                status = response.status_code
                completion = read_completion(
                    response.content, response.headers.get("content-type", "")
                )
            except openai.APIError as exc:
                status = getattr(exc, "status_code", None)
                fault = self._classify(exc, trace.response_format, can_fall_back)
            except NotACompletion as exc:
                fault = Fault(exc.reason, self._scrub(exc.message))
            else:
                self._formats.calibrate(self.base_url, self._config.model, estimate,
                                        completion.prompt_tokens)
                trace.add_http(sent=len(messages), status=status, latency_ms=self._ms(sent),
                               prompt_tokens=completion.prompt_tokens,
                               completion_tokens=completion.completion_tokens,
                               estimated=budget.scaled(estimate), fault=None,
                               answer=completion.content)
                return completion
            self._record_failure(trace, fault, status, sent, len(messages),
                                 budget.scaled(estimate))
            if not fault.retryable or retry == self._config.max_retries:
                return fault
            delay = backoff_delay(retry, fault.retry_after)
            if delay is None:
                trace.note(f"Retry-After {fault.retry_after}s is over {BACKOFF_MAX_S}s; giving up")
                return fault
            await self._clock.sleep(delay)
        return fault

    def _record_failure(self, trace: Trace, fault: Fault, status: int | None, sent: float,
                        count: int, estimated: int) -> None:
        """A failed request; one abandoned at the timeout counts its estimated tokens:
        the prompt, and an answer as long as allowed (the server keeps generating)."""
        abandoned = fault.reason == "timeout"
        trace.add_http(sent=count, status=status, latency_ms=self._ms(sent),
                       prompt_tokens=estimated if abandoned else 0,
                       completion_tokens=self._config.max_output_tokens if abandoned else 0,
                       estimated=estimated, fault=fault.reason, answer=fault.message,
                       tokens_estimated=abandoned)
        trace.note(fault.message)

    async def _request(self, messages: list[Message], fields: dict[str, Any]) -> httpx.Response:
        """The raw response (the SDK does not check a 200's shape); 4xx/5xx raise."""
        temperature = self._config.temperature
        extra = {key: value for key, value in fields.items() if key != "response_format"}
        raw = await self._client.chat.completions.with_raw_response.create(
            model=self._config.model,
            messages=cast("list[ChatCompletionMessageParam]", messages),
            response_format=fields.get("response_format", openai.omit),
            max_tokens=self._config.max_output_tokens,
            temperature=openai.omit if temperature is None else temperature,
            extra_body=extra or None,
        )
        return raw.http_response

    def _classify(
        self, exc: openai.APIError, response_format: ResponseFormatName | None,
        can_fall_back: bool,
    ) -> Fault:
        """What a failed request means: give up, retry, shrink, or try a simpler format."""
        if isinstance(exc, openai.APITimeoutError):
            return Fault("timeout", f"no answer within {self._config.timeout}s", retryable=True)
        if isinstance(exc, openai.APIConnectionError):  # the cause says more than the SDK
            cause = f"{type(exc.__cause__).__name__}: {exc.__cause__}" if exc.__cause__ else exc
            return Fault("connection_error", self._scrub(f"cannot reach {self.base_url}: {cause}"),
                         retryable=True)
        if not isinstance(exc, openai.APIStatusError):
            return Fault("invalid_response", self._scrub(f"{type(exc).__name__}: {exc}"))
        status = exc.status_code
        if status in (401, 403):  # the server's text may echo part of the key: leave it out
            return Fault("auth", f"HTTP {status}: the server refused the key or its rights")
        detail = f"HTTP {status}: {self._scrub(_status_detail(exc))}"
        overflow = overflow_fault(status, exc.code, exc.body, detail)
        if overflow is not None:  # never a format step-down: the prompt is too long
            return overflow
        if can_fall_back and rejects_format(status, detail):
            return Fault("format_rejected", f"{response_format} refused: {detail}",
                         format_rejected=True)
        if status == 429 and exc.code == "insufficient_quota":
            return Fault("quota", detail)
        retry_after = retry_after_seconds(exc.response.headers, self._clock.now())
        if status == 429:
            return Fault("rate_limited", detail, retryable=True, retry_after=retry_after)
        if status >= 500 or status in (408, 409):
            return Fault("server_error", detail, retryable=True, retry_after=retry_after)
        return Fault("bad_request", detail)

    def _content(self, completion: Completion, trace: Trace) -> str | Fault:
        """The answer's text, or why there is none worth parsing."""
        trace.extra["finish_reason"] = str(completion.finish_reason)
        trace.extra["response_model"] = str(completion.model)
        if not completion.refusal:
            trace.raw_text = completion.content
        return answer_text(completion, self._config.max_output_tokens, self._scrub)

    def _outcome(
        self, result: TradeDecision | Fault, trace: Trace, started: float
    ) -> DecisionOutcome:
        if isinstance(result, Fault):
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
            latency_ms=self._ms(started),
            prompt_tokens=trace.prompt_tokens,
            completion_tokens=trace.completion_tokens,
            cost_usd=estimate_cost_usd(self._config.model, trace.prompt_tokens,
                                       trace.completion_tokens, self._config.prices),
            response_format=trace.response_format,
            fallback_used=self._config.response_format == "auto"
            and trace.response_format not in (None, "json_schema", "json_object_schema"),
            extra=trace.extra,
            audit=trace.audit(),
            shadow=self._shadow,
        )

    def _cached_outcome(self, decision: TradeDecision, started: float) -> DecisionOutcome:
        return DecisionOutcome(
            decision=decision,
            decider=self.name,
            model=self._config.model,
            base_url=self.base_url,
            attempts=0,
            latency_ms=self._ms(started),
            cost_usd=Decimal(0),
            cached=True,
            shadow=self._shadow,
        )

    def _ms(self, started: float) -> int:
        return max(round((self._clock.monotonic() - started) * 1000), 0)

    def _scrub(self, text: str) -> str:
        """``text`` on one line and shortened, with the API key blanked should a server
        echo it (the server's text goes into log lines and the audit trail)."""
        if self._secret:
            text = text.replace(self._secret, "***")
        text = one_line(text)
        return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 3] + "..."


def _status_detail(exc: openai.APIStatusError) -> str:
    """An error's message; a body that is no JSON error (a proxy's page) in a few words."""
    if exc.body is None or isinstance(exc.body, (dict, list)):  # None: the body is unread
        return exc.message
    response = exc.response
    return describe_body(response.content, response.headers.get("content-type", ""))
