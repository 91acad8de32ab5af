"""The strategy file's schema: frozen, closed pydantic models.

Percentages are fractions (0.02 is 2%) so a mistyped ``2`` meaning 2% is refused by
the range checks instead of becoming 200%. Money is ``Decimal``.

The file is untrusted input: every number has an upper bound (an absurd ``1e300`` would
pass a lower bound and then overflow ``Decimal`` arithmetic mid-cycle), decimals and
floats must be finite, and booleans are strict, so ``"false"`` or ``0`` is refused
instead of being read as false.
"""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..domain import CandleInterval, Market, parse_duration
from ..optimize.space import OptimizeSection

MAX_KRW = Decimal("1e15")
"""The largest KRW amount a config may name: far above any real account, and small
enough that amounts quantized to 1e-8 keep within ``Decimal``'s 28 digits."""
MAX_COIN_UNITS = Decimal("1e15")
"""The largest coin balance a config may name (paper wallets)."""
MAX_USD_PER_MILLION_TOKENS = Decimal(10_000)
"""The largest model price per million tokens; list prices are in the single hundreds."""
MAX_DURATION = timedelta(days=366)
"""The longest cooldown, TWAP duration or interval; a year is already absurd."""
MAX_MAPPING_ENTRIES = 100
"""How many currencies or model prices one file may list."""


def _duration(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return parse_duration(value)
    except OverflowError:
        raise ValueError(f"duration is too long, at most {MAX_DURATION.days} days") from None


def _bounded_duration(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("duration must not be negative")
    if value > MAX_DURATION:
        raise ValueError(f"duration is too long, at most {MAX_DURATION.days} days")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_bounded_duration)]
Fraction = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
PositiveKRW = Annotated[Decimal, Field(gt=0, le=MAX_KRW, allow_inf_nan=False)]


_PLACEHOLDER_KEY = re.compile(
    r"your[-_\s].*|<.*>|change[-_]?me|(?:sk-(?:proj-)?)?(?:x{3,}(?:[-_]x+)*|\.{3,}|\u2026)",
    re.IGNORECASE,
)


def is_placeholder(value: str) -> bool:
    """Whether a key is a sample file's stand-in (``YOUR_API_KEY``, ``<key>``, ``xxx``).

    Such a value is not a key: sent as one, every private call fails with a 401 and a
    dry run warns about it each cycle, so it is read as no key at all. The patterns are
    narrow on purpose (whole value only), so no real key can match one.
    """
    text = value.strip()
    return not text or _PLACEHOLDER_KEY.fullmatch(text) is not None


def _no_placeholder(value: object) -> object:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return None if isinstance(text, str) and is_placeholder(text) else value


Key = Annotated[SecretStr | None, BeforeValidator(_no_placeholder)]
"""A secret key; a placeholder or an empty value is read as ``None``."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class ApiConfig(Frozen):
    """Bithumb credentials and connection. Keys are only needed for live trading."""

    api_key: Key = None
    api_secret: Key = None
    base_url: str = "https://api.bithumb.com"
    timeout: float = Field(10.0, gt=0, le=120, allow_inf_nan=False,
                           description="seconds per request")
    max_retries: int = Field(3, ge=0, le=10, description="retries of idempotent GETs")

    @property
    def has_keys(self) -> bool:
        return bool(self.api_key and self.api_secret and
                    self.api_key.get_secret_value() and self.api_secret.get_secret_value())


class TradingPairConfig(Frozen):
    order_currency: str = Field("BTC", pattern=r"^[A-Z0-9]{1,15}$")
    payment_currency: Literal["KRW"] = "KRW"

    @functools.cached_property
    def market(self) -> Market:
        return Market(quote=self.payment_currency, base=self.order_currency)


class RiskConfig(Frozen):
    """Limits the risk manager enforces whatever the model says."""

    max_trade_value: PositiveKRW = Decimal(100_000)
    max_position_size: Decimal | None = Field(None, allow_inf_nan=False, description=(
        "share of equity the coin position may reach (0 < x <= 1); None: no share cap"))
    max_position_krw: PositiveKRW = Field(Decimal(500_000),
                                          description="KRW value the coin position may reach")
    stop_loss_pct: Decimal = Field(Decimal("0.02"), gt=0, le=Decimal("0.5"))
    take_profit_pct: Decimal = Field(Decimal("0.04"), gt=0, le=1)
    min_confidence: Fraction = Decimal("0.6")
    max_risk_pct: Decimal = Field(Decimal("0.01"), gt=0, le=Decimal("0.05"))
    daily_loss_limit_pct: Fraction | None = Decimal("0.05")
    daily_loss_limit_krw: PositiveKRW | None = None
    cooldown: Duration = timedelta(0)
    kill_switch_file: str | None = "KILL_SWITCH"
    reduce_only: StrictBool = False
    min_stop_pct: Decimal = Field(Decimal("0.005"), gt=0, le=Decimal("0.2"), description=(
        "floor of a stop or target distance; the spread plus the round-trip fee also is"))
    price_band_bps: Decimal = Field(Decimal(1000), gt=0, le=Decimal(5000), description=(
        "the pre-trade gate refuses an order priced further than this from the book's mid"))

    @field_validator("max_position_size")
    @classmethod
    def _position_share(cls, value: Decimal | None) -> Decimal | None:
        # Until issue 17 this field was a KRW amount; an old file's 500000 must fail
        # loudly, naming the field that now holds the amount, not cap at 500000x equity.
        if value is not None and not 0 < value <= 1:
            raise PydanticCustomError(
                "position_share",
                "a share of equity (0 < x <= 1); for a cap in KRW use risk.max_position_krw",
            )
        return value

    def position_cap_krw(self, equity_krw: Decimal) -> Decimal:
        """The most the coin position may be worth: the smaller of the two caps.

        Args:
            equity_krw: the account's total equity, which the share applies to.
        """
        if self.max_position_size is None:
            return self.max_position_krw
        return min(self.max_position_krw, self.max_position_size * max(equity_krw, Decimal(0)))


class TokenPrice(Frozen):
    input_usd_per_million: Decimal = Field(ge=0, le=MAX_USD_PER_MILLION_TOKENS)
    output_usd_per_million: Decimal = Field(ge=0, le=MAX_USD_PER_MILLION_TOKENS)


def _default_prices() -> dict[str, TokenPrice]:
    # Published list prices (USD per million tokens); override in the strategy file.
    table = {
        "gpt-4o-mini": ("0.15", "0.60"),
        "gpt-4o": ("2.50", "10.00"),
        "gpt-4.1-mini": ("0.40", "1.60"),
        "gpt-4.1": ("2.00", "8.00"),
    }
    return {
        model: TokenPrice(input_usd_per_million=Decimal(i), output_usd_per_million=Decimal(o))
        for model, (i, o) in table.items()
    }


ServerKindName = Literal["auto", "openai", "llamacpp", "vllm", "ollama"]


class ShadowModel(Frozen):
    """A model asked alongside the primary, recorded, never traded; unset fields are
    the primary's."""

    model: str = Field(min_length=1)
    base_url: str | None = None
    api_key: Key = None
    server: ServerKindName | None = None
    context_tokens: int | None = Field(None, ge=512, le=10_000_000)
    response_format: Literal["auto", "json_schema", "json_object", "text"] | None = None
    temperature: float | None = Field(None, ge=0, le=2, allow_inf_nan=False)
    max_output_tokens: int | None = Field(None, ge=50, le=16_000)
    timeout: float | None = Field(None, gt=0, le=600, allow_inf_nan=False)


class LLMConfig(Frozen):
    """The language model, reached through any OpenAI-compatible server."""

    model: str = Field("gpt-4o-mini", min_length=1)
    base_url: str | None = None
    api_key: Key = None
    temperature: float | None = Field(None, ge=0, le=2, allow_inf_nan=False)
    max_output_tokens: int = Field(600, ge=50, le=16_000)
    timeout: float = Field(30.0, gt=0, le=600, allow_inf_nan=False)
    max_retries: int = Field(2, ge=0, le=5, description="transport retries")
    repair_attempts: int = Field(1, ge=0, le=3, description="re-asks after invalid output")
    response_format: Literal["auto", "json_schema", "json_object", "text"] = "auto"
    cache: StrictBool = False
    knowledge_cutoff: date | None = None
    prices: dict[str, TokenPrice] = Field(
        default_factory=_default_prices, max_length=MAX_MAPPING_ENTRIES
    )
    server: ServerKindName = Field("auto", description="how to ask for constrained output")
    context_tokens: int | None = Field(None, ge=512, le=10_000_000,
                                       description="the server's context; None: ask it")
    shadow_models: list[ShadowModel] = Field(default_factory=list, max_length=8)


class RuleParams(Frozen):
    """The built-in rule strategy: EMA trend filter, RSI bounds, ATR stops."""

    ema_fast: int = Field(12, ge=2, le=200)
    ema_slow: int = Field(26, ge=3, le=400)
    rsi_period: int = Field(14, ge=2, le=100)
    rsi_buy_below: Decimal = Field(Decimal(70), ge=0, le=100)
    rsi_sell_above: Decimal = Field(Decimal(80), ge=0, le=100)
    atr_period: int = Field(14, ge=2, le=100)
    atr_stop_multiple: Decimal = Field(Decimal(2), gt=0, le=20)
    reward_risk: Decimal = Field(Decimal(2), gt=0, le=20)
    risk_pct: Decimal = Field(Decimal("0.005"), gt=0, le=Decimal("0.05"))
    confidence: Fraction = Decimal("0.7")
    # Costs (issue 22): enter only when the ATR target pays the round trip with a margin,
    # hold a position a while before a signal may sell it, and wait before re-entering.
    cost_filter: StrictBool = True
    edge_margin: Decimal = Field(Decimal(1), ge=0, le=20, description=(
        "enter only when the take profit is at least (1 + edge_margin) x the round-trip "
        "cost (buy fee + sell fee + spread); 1: the target pays the costs twice"))
    min_hold: Duration = timedelta(hours=2)
    reentry_cooldown: Duration = timedelta(hours=2)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> RuleParams:
        if self.ema_fast >= self.ema_slow:
            raise ValueError("ema_fast must be shorter than ema_slow")
        return self


class StrategySection(Frozen):
    """How the strategy sees the market and who decides."""

    decider: Literal["llm", "rules"] = "llm"
    instructions: str | None = Field(None, max_length=4000)
    instructions_file: str | None = None
    candle_interval: CandleInterval = CandleInterval.M15
    candle_count: int = Field(200, ge=30, le=1000)
    prompt_candles: int = Field(24, ge=0, le=100, description="candles shown in the prompt")
    book_levels: int = Field(10, ge=1, le=30, description="levels for book imbalance")
    depth_bps: Decimal = Field(Decimal(50), gt=0, le=1000)
    max_ticker_deviation_pct: Decimal = Field(
        Decimal("0.02"), gt=0, le=Decimal("0.5"),
        description="farthest the ticker's last price may be from the book mid (0.02 = 2%)")
    rules: RuleParams = Field(default_factory=RuleParams)


class AllocationConfig(Frozen):
    """How an approved trade is sized."""

    reserved_pool_pct: Decimal = Field(Decimal("0.2"), ge=0, lt=1)
    max_single_order_pct: Decimal = Field(Decimal("0.1"), gt=0, le=1)
    max_slippage_bps: Decimal = Field(Decimal(30), gt=0, le=1000)
    reduce_fraction: Decimal = Field(Decimal("0.5"), gt=0, le=1)
    fee_rate: Decimal = Field(Decimal("0.0025"), ge=0, lt=Decimal("0.05"),
                              description="used when the account's rates are unavailable")
    min_order_krw: PositiveKRW = Decimal(5000)


class TwapConfig(Frozen):
    threshold_krw: PositiveKRW = Decimal(1_000_000)
    duration: Duration = timedelta(minutes=10)
    slices: int | None = Field(10, ge=1, le=1000)
    interval: Duration | None = None
    jitter: Decimal = Field(Decimal(0), ge=0, le=Decimal("0.5"))
    max_slippage_bps: Decimal | None = Field(None, gt=0, le=1000)
    final_sweep: StrictBool = False

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("duration must be positive")
        return value


class PaperConfig(Frozen):
    initial_balances: dict[str, Decimal] = Field(
        default_factory=lambda: {"KRW": Decimal(1_000_000)}, max_length=MAX_MAPPING_ENTRIES
    )

    @field_validator("initial_balances")
    @classmethod
    def _non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for currency, amount in value.items():
            if amount < 0:
                raise ValueError(f"{currency} balance must not be negative")
            limit = MAX_KRW if currency.upper() == "KRW" else MAX_COIN_UNITS
            if amount > limit:
                raise ValueError(f"{currency} balance must be at most {limit}")
        return {currency.upper(): amount for currency, amount in value.items()}


class DatabaseConfig(Frozen):
    """Where runs are recorded.

    ``fallback_url`` serves a dry run only, and only when ``url``'s server cannot be
    reached: a live run's risk state lives in ``url`` (see ``bootstrap.database``).
    """

    url: str = "sqlite:///bithumb_trader.db"
    fallback_url: str | None = None


class LoggingConfig(Frozen):
    file: str | None = "logs/bithumb-trader.log"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_bytes: int = Field(5_000_000, ge=10_000, le=10_000_000_000)
    backups: int = Field(5, ge=0, le=100)


class BacktestConfig(Frozen):
    """How a backtest simulates the market it replays.

    Candle files have no orderbook, so fills walk a synthetic one around the fill price.
    The defaults are fitted to a real KRW-BTC book (see ``backtest.book_model``):
    ``spread_bps`` between best bid and ask, ``level_spacing_bps`` between neighbouring
    levels, ``level_notional_krw`` resting on each level (size = notional / price, so
    depth keeps its KRW value whatever the price), ``book_levels`` per side.
    """

    spread_bps: Decimal = Field(Decimal("1.55"), gt=0, le=1000)
    level_spacing_bps: Decimal = Field(Decimal("0.47"), gt=0, le=1000)
    level_notional_krw: PositiveKRW = Decimal(5_836_175)
    book_levels: int = Field(15, ge=1, le=100)
    fee_rate: Decimal | None = Field(None, ge=0, lt=Decimal("0.05"),
                                     description="taker and maker; None: allocation.fee_rate")


# Here, below Frozen and Duration, which the notifications section imports back.
from .notifications import NotificationsConfig  # noqa: E402


class StrategyConfig(Frozen):
    """One strategy file."""

    name: str = Field("default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    dry_run: StrictBool = True
    api: ApiConfig = Field(default_factory=ApiConfig)
    trading_pair: TradingPairConfig = Field(default_factory=TradingPairConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    strategy: StrategySection = Field(default_factory=StrategySection)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    twap: TwapConfig = Field(default_factory=TwapConfig)
    paper: PaperConfig = Field(default_factory=PaperConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    optimize: OptimizeSection = Field(default_factory=OptimizeSection)

    @functools.cached_property
    def market(self) -> Market:
        return self.trading_pair.market


AppConfig = StrategyConfig
"""The older name; one strategy file is the whole application config."""
