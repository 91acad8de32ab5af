"""The portfolio file's schema: a frozen, closed pydantic model.

A portfolio file lists strategy files with capital weights and sets the limits that
hold for the whole account. A directory of strategy files is the same thing with equal
weights and these defaults. Percentages are fractions, as in strategy files.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator, model_validator

from ..config.models import Fraction, Frozen, PositiveKRW
from ..domain import ONE

PORTFOLIO_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,32}$"
"""Short on purpose: the name prefixes the ledger keys stored next to strategy names."""


class PortfolioMember(Frozen):
    """One strategy file and the fraction of portfolio equity it may size within."""

    file: str = Field(min_length=1, description="path, relative to the portfolio file")
    weight: Decimal = Field(gt=0, le=1)


class PortfolioConfig(Frozen):
    """A portfolio file: its strategies, their weights, and account-wide limits.

    ``name`` is recorded as the strategy of the netted orders and of the portfolio's own
    ``cron_runs`` rows, so it must differ from every member's name.
    """

    name: str = Field("portfolio", pattern=PORTFOLIO_NAME_PATTERN)
    strategies: tuple[PortfolioMember, ...] = Field(min_length=1)
    reserved_pool_pct: Decimal = Field(Decimal("0.2"), ge=0, lt=1)
    max_gross_exposure: Decimal = Field(
        ONE, gt=0, le=1, description="coins held, as a fraction of account equity"
    )
    daily_loss_limit_pct: Fraction | None = Decimal("0.05")
    daily_loss_limit_krw: PositiveKRW | None = None
    kill_switch_file: str | None = "KILL_SWITCH"
    database_url: str | None = Field(
        None, description="default: the database every strategy file names"
    )
    dry_run: bool = True
    paper_initial_balances: dict[str, Decimal] | None = Field(
        None, description="dry-run account; default: the members' paper balances summed"
    )

    @field_validator("paper_initial_balances")
    @classmethod
    def _non_negative(cls, value: dict[str, Decimal] | None) -> dict[str, Decimal] | None:
        if value is None:
            return None
        for currency, amount in value.items():
            if amount < 0:
                raise ValueError(f"{currency} balance must not be negative")
        return {currency.upper(): amount for currency, amount in value.items()}

    @model_validator(mode="after")
    def _weights_fit(self) -> PortfolioConfig:
        total = sum((member.weight for member in self.strategies), Decimal(0))
        if total > ONE:
            raise ValueError(f"strategy weights sum to {total}; they must sum to at most 1")
        return self

    @property
    def weight_total(self) -> Decimal:
        return sum((member.weight for member in self.strategies), Decimal(0))
