"""What a TWAP is asked to do, with defaults from the strategy file, and its stored form.

The parameters are stored with the run (``twap_runs.params_json``) so a stopped or
crashed run can be resumed from the database alone, exactly as it was planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..config import StrategyConfig
from ..domain import DEFAULT_MIN_ORDER_KRW, ZERO, Market, Side, to_decimal
from ..errors import InvalidOrder
from .plan import MAX_JITTER, SizeUnit

_MS = timedelta(milliseconds=1)
MAX_SLICES = 1000
"""As many as the config allows (``twap.slices``); more would only be noise on the book."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapParams:
    """One TWAP: buy or sell ``notional`` KRW or ``volume`` coins over ``duration``.

    Exactly one of ``notional`` and ``volume``, and exactly one of ``slices`` and
    ``interval``. ``run_id`` is the trading cycle that asked for the TWAP, if any.

    Raises:
        InvalidOrder: on construction, when the parameters cannot make a valid TWAP.
    """

    market: Market
    side: Side
    duration: timedelta
    max_slippage_bps: Decimal
    notional: Decimal | None = None
    volume: Decimal | None = None
    slices: int | None = None
    interval: timedelta | None = None
    limit_price: Decimal | None = None
    jitter: Decimal = ZERO
    seed: int | None = None
    final_sweep: bool = False
    min_order_krw: Decimal = DEFAULT_MIN_ORDER_KRW
    run_id: str | None = None

    def __post_init__(self) -> None:
        if (self.notional is None) == (self.volume is None):
            raise InvalidOrder("give exactly one of notional (KRW) or volume (coins)")
        total = self.total
        if total <= 0 or self.unit.round(total) != total:
            what = "whole won" if self.unit is SizeUnit.NOTIONAL else "at most 8 decimals"
            raise InvalidOrder(f"the {self.unit.value} must be positive and in {what}, "
                               f"got {total}")
        self._check_schedule()
        self._check_prices()

    def _check_schedule(self) -> None:
        if self.duration <= timedelta(0):
            raise InvalidOrder("the duration must be positive")
        if (self.slices is None) == (self.interval is None):
            raise InvalidOrder("give exactly one of slices or interval")
        if self.interval is not None and self.interval <= timedelta(0):
            raise InvalidOrder("the interval must be positive")
        if not 1 <= self.requested_slices <= MAX_SLICES:
            raise InvalidOrder(f"a TWAP has 1 to {MAX_SLICES} slices, this one would have "
                               f"{self.requested_slices}")

    def _check_prices(self) -> None:
        if self.limit_price is not None and self.limit_price <= 0:
            raise InvalidOrder(f"the limit price must be positive, got {self.limit_price}")
        if self.max_slippage_bps <= 0:
            raise InvalidOrder("max slippage must be positive")
        if not ZERO <= self.jitter <= MAX_JITTER:
            raise InvalidOrder(f"jitter must be between 0 and {MAX_JITTER}, got {self.jitter}")

    @property
    def unit(self) -> SizeUnit:
        return SizeUnit.NOTIONAL if self.notional is not None else SizeUnit.VOLUME

    @property
    def requested_slices(self) -> int:
        """Slices asked for, directly or as ``duration // interval`` (at least one)."""
        if self.slices is not None:
            return self.slices
        assert self.interval is not None
        return max(1, self.duration // self.interval)

    @property
    def total(self) -> Decimal:
        total = self.notional if self.notional is not None else self.volume
        assert total is not None
        return total

    @classmethod
    def from_config(
        cls,
        config: StrategyConfig,
        *,
        side: Side,
        notional: Decimal | None = None,
        volume: Decimal | None = None,
        run_id: str | None = None,
        **overrides: Any,
    ) -> TwapParams:
        """Parameters for ``config``'s market with the defaults of its ``twap`` section.

        ``twap.max_slippage_bps`` falls back to ``allocation.max_slippage_bps``; an
        ``interval`` in the file wins over ``slices``. ``overrides`` replace any field
        (pass ``interval=None`` with ``slices=`` to change the spacing).
        """
        twap = config.twap
        spacing: dict[str, Any] = (
            {"interval": twap.interval} if twap.interval is not None
            else {"slices": twap.slices or 1}
        )
        values: dict[str, Any] = {
            "market": config.market, "side": side, "notional": notional, "volume": volume,
            "duration": twap.duration, "jitter": twap.jitter,
            "max_slippage_bps": twap.max_slippage_bps or config.allocation.max_slippage_bps,
            "final_sweep": twap.final_sweep, "min_order_krw": config.allocation.min_order_krw,
            "run_id": run_id, **spacing,
        }
        values.update(overrides)
        return cls(**values)


def params_to_json(params: TwapParams) -> dict[str, Any]:
    """A JSON-safe dict (Decimals as strings, times in milliseconds) for the store."""
    return {
        "market": str(params.market),
        "side": params.side.value,
        "notional": _text(params.notional),
        "volume": _text(params.volume),
        "duration_ms": params.duration // _MS,
        "slices": params.slices,
        "interval_ms": None if params.interval is None else params.interval // _MS,
        "limit_price": _text(params.limit_price),
        "max_slippage_bps": str(params.max_slippage_bps),
        "jitter": str(params.jitter),
        "seed": params.seed,
        "final_sweep": params.final_sweep,
        "min_order_krw": str(params.min_order_krw),
        "run_id": params.run_id,
    }


def params_from_json(data: dict[str, Any]) -> TwapParams:
    """The inverse of ``params_to_json``."""
    interval = data.get("interval_ms")
    return TwapParams(
        market=Market.parse(data["market"]),
        side=Side(data["side"]),
        notional=_number(data.get("notional")),
        volume=_number(data.get("volume")),
        duration=int(data["duration_ms"]) * _MS,
        slices=data.get("slices"),
        interval=None if interval is None else int(interval) * _MS,
        limit_price=_number(data.get("limit_price")),
        max_slippage_bps=to_decimal(data["max_slippage_bps"]),
        jitter=to_decimal(data["jitter"]),
        seed=data.get("seed"),
        final_sweep=bool(data.get("final_sweep")),
        min_order_krw=to_decimal(data["min_order_krw"]),
        run_id=data.get("run_id"),
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)
