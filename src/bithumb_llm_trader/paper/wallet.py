"""A paper wallet: balances that move exactly as fills say, and orders' locked funds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from ..domain import PRICE_STEP, ZERO, Balance
from ..errors import ExchangeRejected
from ..records import PaperBalanceRecord

FEE_STEP = Decimal("0.01")
"""Fees are truncated to 0.01 KRW, as a real Bithumb fill shows (69664.8389 * 0.0004 -> 27.86)."""


def fee_for(funds: Decimal, rate: Decimal) -> Decimal:
    return (funds * rate).quantize(FEE_STEP, rounding=ROUND_DOWN)


@dataclass(slots=True)
class _Purse:
    balance: Decimal
    locked: Decimal = ZERO
    avg_buy_price: Decimal = ZERO


class PaperWallet:
    """Free and locked balances per currency for one strategy.

    Not thread-safe and not persisted by itself: the paper exchange saves it after each
    change in the same transaction as the order that changed it.
    """

    def __init__(self, balances: Mapping[str, Decimal]) -> None:
        self._purses = {c.upper(): _Purse(amount) for c, amount in balances.items()}

    @classmethod
    def from_records(cls, records: Iterable[PaperBalanceRecord]) -> PaperWallet:
        wallet = cls({})
        for rec in records:
            wallet._purses[rec.currency] = _Purse(rec.balance, rec.locked, rec.avg_buy_price)
        return wallet

    def to_records(self, strategy: str, now: datetime) -> list[PaperBalanceRecord]:
        return [
            PaperBalanceRecord(
                strategy=strategy,
                currency=currency,
                balance=purse.balance,
                locked=purse.locked,
                avg_buy_price=purse.avg_buy_price,
                updated_at=now,
            )
            for currency, purse in sorted(self._purses.items())
        ]

    def balances(self) -> list[Balance]:
        return [
            Balance(c, p.balance, p.locked, p.avg_buy_price)
            for c, p in sorted(self._purses.items())
            if p.balance or p.locked
        ]

    def free(self, currency: str) -> Decimal:
        purse = self._purses.get(currency)
        return purse.balance if purse else ZERO

    def require(self, currency: str, amount: Decimal) -> None:
        """Refuse, like the exchange would, an order the free balance cannot cover."""
        if self.free(currency) < amount:
            raise ExchangeRejected(
                f"insufficient {currency}: need {amount}, free {self.free(currency)}",
                status=400,
                name="insufficient_funds",
            )

    def lock(self, currency: str, amount: Decimal) -> None:
        self.require(currency, amount)
        purse = self._purse(currency)
        purse.balance -= amount
        purse.locked += amount

    def unlock(self, currency: str, amount: Decimal) -> None:
        purse = self._purse(currency)
        amount = min(amount, purse.locked)
        purse.locked -= amount
        purse.balance += amount

    def spend(self, currency: str, amount: Decimal, *, from_locked: bool = False) -> None:
        purse = self._purse(currency)
        if from_locked:
            purse.locked -= amount
        else:
            purse.balance -= amount
        if purse.balance < 0 or purse.locked < 0:
            raise AssertionError(f"paper wallet went negative in {currency}")

    def receive(self, currency: str, amount: Decimal) -> None:
        self._purse(currency).balance += amount

    def record_buy(self, currency: str, volume: Decimal, funds: Decimal) -> None:
        """Credit bought coins and move the average buy price (fees excluded, as Bithumb does)."""
        purse = self._purse(currency)
        held = purse.balance + purse.locked
        cost = held * purse.avg_buy_price + funds
        purse.balance += volume
        purse.avg_buy_price = (cost / (held + volume)).quantize(PRICE_STEP)

    def after_sell(self, currency: str) -> None:
        """Forget the average price once the position is gone."""
        purse = self._purse(currency)
        if purse.balance + purse.locked == 0:
            purse.avg_buy_price = ZERO

    def _purse(self, currency: str) -> _Purse:
        return self._purses.setdefault(currency, _Purse(ZERO))
