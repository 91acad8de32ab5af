"""What is worth telling an operator, as plain frozen values built in one call each.

The wiring (engine, TWAP, CLI) calls one builder per event with the values it already
holds; the builder writes the title and body once, so every service shows the same text.
Money stays ``Decimal`` and is formatted exactly: KRW to the won with thousands
separators, coin volumes to 8 decimals (rounded down, as the exchange sizes them).

This module is pure (no I/O, no adapter library): the engine may import it, and emit
through the ``Emitter`` protocol without knowing how or where messages go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Protocol

from ..domain import KST

_WON = Decimal(1)
_SATOSHI = Decimal("0.00000001")
_CENT = Decimal("0.01")


class EventKind(str, Enum):
    """Every kind of message; ``NotificationsConfig.events`` picks which are sent."""

    ORDER_FILLED = "order_filled"
    TWAP_FINISHED = "twap_finished"
    TWAP_INCOMPLETE = "twap_incomplete"
    TWAP_STOPPED = "twap_stopped"
    TRADING_HALTED = "trading_halted"
    TRADING_REDUCING = "trading_reducing"
    TRADING_ACTIVE = "trading_active"
    ORDER_UNKNOWN = "order_unknown"
    ORDER_SETTLED = "order_settled"
    CYCLE_FAILED = "cycle_failed"
    CONSECUTIVE_FAILURES = "consecutive_failures"
    DAILY_SUMMARY = "daily_summary"
    LEASE_REFUSED = "lease_refused"
    TEST = "test"


class Level(str, Enum):
    """How urgent a message is; ``min_level`` drops the ones below it."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def notify_type(self) -> str:
        """apprise's message type (``info``, ``success``, ``warning``, ``failure``)."""
        return {"info": "info", "warning": "warning", "error": "failure"}[self.value]


_RANKS = {Level.INFO: 0, Level.WARNING: 1, Level.ERROR: 2}


@dataclass(frozen=True)
class Event:
    """One message: what happened, how urgent, to which strategy in which mode.

    ``at`` is when it happened (from the caller's clock; a naive time is read as UTC);
    ``details`` are the raw values as strings, for the record and for tests.
    """

    kind: EventKind
    level: Level
    title: str
    body: str
    at: datetime
    strategy: str
    mode: str
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:  # never fail the caller over a zone: assume UTC
            object.__setattr__(self, "at", self.at.replace(tzinfo=timezone.utc))


class Emitter(Protocol):
    """What the engine, TWAP and CLI hold: ``emit`` never blocks and never raises."""

    def emit(self, event: Event) -> None: ...


class NullEmitter:
    """Sends nothing: for runs without notifications and for tests."""

    def emit(self, event: Event) -> None:
        return None


def krw(amount: Decimal) -> str:
    """``amount`` to the won with separators: ``Decimal('1234567.5')`` -> ``1,234,568 KRW``."""
    return f"{amount.quantize(_WON, rounding=ROUND_HALF_UP):,} KRW"


def price(amount: Decimal) -> str:
    """A KRW price: to the won from 100 KRW up, else to 4 decimals (cheap coins)."""
    if abs(amount) >= 100:
        return krw(amount)
    text = f"{amount.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):,}"
    return f"{text.rstrip('0').rstrip('.') if '.' in text else text} KRW"


def volume(amount: Decimal, coin: str) -> str:
    """A coin amount to 8 decimals, rounded down: ``0.00123400 BTC``."""
    return f"{amount.quantize(_SATOSHI, rounding=ROUND_DOWN):f} {coin}"


def _when(at: datetime) -> str:
    return at.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")


def _value(obj: object) -> str:
    """An enum's value (``Side.BUY`` -> ``bid``), anything else as text."""
    raw = getattr(obj, "value", obj)
    return str(raw)


def _side_word(side: object) -> tuple[str, str]:
    """(``buy``/``sell``, past tense) from a ``Side`` or its spelling."""
    text = _value(side).lower()
    if text in ("bid", "buy"):
        return "buy", "bought"
    if text in ("ask", "sell"):
        return "sell", "sold"
    return text, text


def _coin(market: object) -> str:
    text = str(market)
    return text.rpartition("-")[2] or text


def _event(kind: EventKind, level: Level, strategy: str, mode: str, at: datetime,
           headline: str, lines: Sequence[str], details: dict[str, str]) -> Event:
    title = f"[{strategy}/{mode}] {headline}"
    body = "\n".join([*lines, f"at {_when(at)}"])
    return Event(kind, level, title, body, at, strategy, mode,
                 {key: value for key, value in details.items() if value != ""})


def order_filled(strategy: str, mode: str, side: object, volume_filled: Decimal,
                 avg_price: Decimal, funds: Decimal, fee: Decimal, at: datetime, *,
                 market: object = "KRW-BTC", order_id: str = "",
                 twap_run: str = "") -> Event:
    """An order (or a whole TWAP, with ``twap_run``) filled ``volume_filled``.

    Args:
        side: a ``domain.Side`` or ``"buy"``/``"sell"``/``"bid"``/``"ask"``.
        funds: the KRW paid or received, before the fee.
        market: a ``domain.Market`` or its id; names the coin.
        order_id: the client order id, for the record.
    """
    word, past = _side_word(side)
    coin = _coin(market)
    what = f"TWAP {twap_run}" if twap_run else "order"
    return _event(
        EventKind.ORDER_FILLED, Level.INFO, strategy, mode, at,
        f"{past} {volume(volume_filled, coin)} at {price(avg_price)}",
        [f"{word} {what} filled on {market}: {volume(volume_filled, coin)}"
         f" at {price(avg_price)} on average",
         f"funds {krw(funds)}, fee {krw(fee)}"],
        {"side": word, "market": str(market), "volume": str(volume_filled),
         "avg_price": str(avg_price), "funds": str(funds), "fee": str(fee),
         "order_id": order_id, "twap_run": twap_run},
    )


_TWAP_KINDS = {
    "done": (EventKind.TWAP_FINISHED, Level.INFO),
    "stopped": (EventKind.TWAP_STOPPED, Level.WARNING),
    "incomplete": (EventKind.TWAP_INCOMPLETE, Level.WARNING),
    "refused": (EventKind.TWAP_INCOMPLETE, Level.WARNING),
    "failed": (EventKind.TWAP_INCOMPLETE, Level.ERROR),
}


def twap_ended(strategy: str, mode: str, run_id: str, status: str, side: object,
               filled: Decimal, total: Decimal, avg_price: Decimal | None, at: datetime, *,
               market: object = "KRW-BTC", unit: str = "volume", reason: str = "") -> Event:
    """A TWAP ended: ``done`` -> twap_finished, ``stopped`` -> twap_stopped, ``incomplete``,
    ``refused`` and ``failed`` -> twap_incomplete (``failed`` as an error).

    Args:
        status: the TWAP run's final status.
        filled: what filled, in ``unit``; total: what was asked.
        unit: ``"volume"`` (coin) or ``"notional"`` (KRW), as the TWAP was sized.
        avg_price: the average fill price, None when nothing filled.
        reason: why it stopped short, if known.
    """
    kind, level = _TWAP_KINDS.get(status, (EventKind.TWAP_INCOMPLETE, Level.WARNING))
    word, _ = _side_word(side)
    coin = _coin(market)
    amount = krw if unit == "notional" else (lambda value: volume(value, coin))
    share = "" if total <= 0 else f" ({(filled / total * 100).quantize(_CENT)}%)"
    lines = [f"{word} TWAP {run_id} on {market}: {status}",
             f"filled {amount(filled)} of {amount(total)}{share}",
             "average price " + (price(avg_price) if avg_price is not None else "-")]
    if reason:
        lines.append(f"reason: {reason}")
    return _event(kind, level, strategy, mode, at,
                  f"TWAP {status}: {amount(filled)} of {amount(total)}", lines,
                  {"run_id": run_id, "status": status, "side": word, "market": str(market),
                   "filled": str(filled), "total": str(total), "unit": unit,
                   "avg_price": "" if avg_price is None else str(avg_price),
                   "reason": reason})


_STATE_KINDS = {
    "halted": (EventKind.TRADING_HALTED, Level.ERROR),
    "reducing": (EventKind.TRADING_REDUCING, Level.WARNING),
    "active": (EventKind.TRADING_ACTIVE, Level.INFO),
}


def trading_state_changed(strategy: str, mode: str, old: object, new: object,
                          reasons: Sequence[str], at: datetime) -> Event:
    """Trading went HALTED, REDUCING or back to ACTIVE; call it on a change only.

    Args:
        old, new: ``risk.TradingState`` values (or their spelling).
        reasons: why, as the risk manager recorded it (kill-switch file, daily loss...).
    """
    before, after = _value(old).lower(), _value(new).lower()
    kind, level = _STATE_KINDS.get(after, (EventKind.TRADING_HALTED, Level.ERROR))
    why = "; ".join(reasons) or "no reason given"
    return _event(kind, level, strategy, mode, at,
                  f"trading {after.upper()} (was {before.upper()})",
                  [f"trading state {before.upper()} -> {after.upper()}", f"reason: {why}"],
                  {"old": before, "new": after, "reasons": why})


def order_unknown(strategy: str, mode: str, client_order_id: str, reason: str,
                  at: datetime, *, side: object = "", volume_asked: Decimal | None = None,
                  market: object = "KRW-BTC") -> Event:
    """An order's fate is unknown (sent, no answer); trading halts until it is settled."""
    word, _ = _side_word(side) if side != "" else ("", "")
    size = f" {volume(volume_asked, _coin(market))}" if volume_asked is not None else ""
    return _event(EventKind.ORDER_UNKNOWN, Level.ERROR, strategy, mode, at,
                  f"order {client_order_id} state UNKNOWN",
                  [f"{word + ' ' if word else ''}order {client_order_id}{size} on {market}:"
                   " its state is unknown; trading halts until reconciliation settles it",
                   f"reason: {reason}"],
                  {"client_order_id": client_order_id, "reason": reason, "side": word,
                   "volume": "" if volume_asked is None else str(volume_asked),
                   "market": str(market)})


def order_settled(strategy: str, mode: str, client_order_id: str, outcome: str,
                  at: datetime, *, filled: Decimal | None = None,
                  market: object = "KRW-BTC") -> Event:
    """Reconciliation settled an order that was unknown or left open.

    Args:
        outcome: what it turned out to be (``filled``, ``cancelled``, ``not found``...).
        filled: the volume that filled, when known.
    """
    size = f", filled {volume(filled, _coin(market))}" if filled is not None else ""
    return _event(EventKind.ORDER_SETTLED, Level.INFO, strategy, mode, at,
                  f"order {client_order_id} settled: {outcome}",
                  [f"reconciliation settled order {client_order_id} on {market}:"
                   f" {outcome}{size}"],
                  {"client_order_id": client_order_id, "outcome": outcome,
                   "filled": "" if filled is None else str(filled), "market": str(market)})


def cycle_failed(strategy: str, mode: str, step: str, error: str, at: datetime, *,
                 run_id: str = "") -> Event:
    """A cycle failed in ``step`` with the one-line ``error``."""
    return _event(EventKind.CYCLE_FAILED, Level.ERROR, strategy, mode, at,
                  f"cycle failed at {step}",
                  [f"the cycle{' ' + run_id if run_id else ''} failed in step {step}",
                   f"error: {error}"],
                  {"step": step, "error": error, "run_id": run_id})


def consecutive_failures(strategy: str, mode: str, count: int, step: str, error: str,
                         at: datetime) -> Event:
    """``count`` cycles in a row have failed; the last one in ``step``."""
    return _event(EventKind.CONSECUTIVE_FAILURES, Level.ERROR, strategy, mode, at,
                  f"{count} cycles in a row failed",
                  [f"{count} consecutive cycles failed; the last in step {step or '-'}",
                   f"last error: {error or '-'}"],
                  {"count": str(count), "step": step, "error": error})


def failures_recovered(strategy: str, mode: str, count: int, at: datetime) -> Event:
    """A cycle succeeded after ``count`` failures in a row (at least the threshold)."""
    return _event(EventKind.CONSECUTIVE_FAILURES, Level.INFO, strategy, mode, at,
                  f"recovered after {count} failed cycles",
                  [f"a cycle succeeded again after {count} consecutive failures"],
                  {"count": str(count), "recovered": "true"})


def daily_summary(strategy: str, mode: str, equity: Decimal, pnl: Decimal, fees: Decimal,
                  model_cost_usd: Decimal, at: datetime, *, trades: int | None = None) -> Event:
    """The day's numbers: equity now, PnL and fees over the day, language-model cost."""
    sign = "+" if pnl > 0 else ""
    lines = [f"equity {krw(equity)}", f"PnL {sign}{krw(pnl)}", f"fees {krw(fees)}",
             f"model cost {model_cost_usd.quantize(_CENT, rounding=ROUND_HALF_UP)} USD"]
    if trades is not None:
        lines.append(f"trades {trades}")
    return _event(EventKind.DAILY_SUMMARY, Level.INFO, strategy, mode, at,
                  f"daily summary: equity {krw(equity)}, PnL {sign}{krw(pnl)}", lines,
                  {"equity": str(equity), "pnl": str(pnl), "fees": str(fees),
                   "model_cost_usd": str(model_cost_usd),
                   "trades": "" if trades is None else str(trades)})


def lease_refused(strategy: str, mode: str, key: str, holder: str, at: datetime) -> Event:
    """This process did not start: another one holds the account's lease.

    Args:
        key: the lease key (``live:<hash>``; a hash, never the API key).
        holder: the refusal's text naming the holder (``lease.held_message``).
    """
    return _event(EventKind.LEASE_REFUSED, Level.WARNING, strategy, mode, at,
                  "refused: another process holds the lease",
                  [holder], {"key": key, "holder": holder})


def notify_test_event(strategy: str, mode: str, at: datetime) -> Event:
    """The ``notify-test`` message."""
    return _event(EventKind.TEST, Level.INFO, strategy, mode, at,
                  "test notification",
                  ["bithumb-trader can reach this service; nothing was traded"], {})
