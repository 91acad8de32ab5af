"""``MultiAgentPortfolioManager``: several strategies trading one account together.

One portfolio cycle:

1. finish netted orders a previous cycle left unsettled (``Settler.resume``);
2. open: read the account and every price once, seed new strategies' ledgers, decide
   the portfolio's own state (kill switch, daily loss), and work out what each strategy
   must count as committed (the other strategies' running TWAPs, and its cash beyond
   its slice, weight x account equity, given to its engine as ``committed_krw``);
3. run every strategy's engine concurrently on its ``LedgerExchange``; their orders
   meet at the ``NettingDesk``, which nets them per market and sends one order each;
4. value every ledger and return a ``PortfolioCycleResult``.

A strategy's failure is its own: it is recorded in its result and the others go on.
A portfolio HALT stops new risk for all: the portfolio's kill switch file halts every
engine through its ``kill_switch`` hook (nothing trades, exactly as a strategy's own
kill switch); the portfolio's daily loss limit makes the ledger exchanges refuse every
buy, while sells (model exits, stop-losses) still reduce risk.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from ..config import StrategyConfig
from ..config.models import StrategySection
from ..domain import ZERO, Mode, Order, Side, round_krw
from ..engine import CycleResult, TradingEngine, new_run_id
from ..execution import OrderExecutor
from ..ports import Account, Clock, Decider, Store
from ..records import PORTFOLIO_MARKET, RunRecord, RunUpdate, TwapRunRecord
from ..risk import RiskState, start_of_day_kst
from . import capital
from .batch import BatchSettler
from .config import PortfolioConfig
from .desk import NettingDesk, Outcome
from .ledger import Ledger, LedgerExchange, book_owner, ledger_key
from .loading import LoadFailure, MemberSpec
from .market_cache import SharedMarketData
from .netting import Intent
from .results import (
    NettingReport,
    PortfolioCycleResult,
    StrategyCycleResult,
    plain,
    positions_of,
    total_positions,
)
from .settlement import NettingBook, Settlement, Settler

log = logging.getLogger(__name__)

DEFAULT_MAX_TICKER_DEVIATION: Decimal = StrategySection.model_fields[
    "max_ticker_deviation_pct"].default
"""For a held coin no strategy trades: what a strategy's snapshot allows by default."""

TwapSource = Callable[[], Sequence[TwapRunRecord]]


class MemberEngines(Protocol):
    """Builds a member strategy's engine on its ledger exchange (the composition root's
    ``bootstrap.member_engine``): the manager says what the engine must know of the
    portfolio, the root wires the gate, executors and steps."""

    def __call__(
        self, config: StrategyConfig, *, exchange: LedgerExchange, decider: Decider,
        kill_switch: Callable[[], bool], committed_krw: Callable[[], Decimal],
        ids: Callable[[], str],
    ) -> TradingEngine: ...


@dataclass(frozen=True, slots=True)
class CycleOpening:
    """What the portfolio knows when its strategies start deciding."""

    prices: dict[str, Decimal]
    account: capital.Valuation
    halt: RiskState
    remainders: dict[str, Decimal]
    over_slice: dict[str, Decimal]
    headroom_krw: Decimal
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Ran:
    name: str
    status: str
    cycle: CycleResult | None
    error: str | None


class MultiAgentPortfolioManager:
    """Runs one cycle of every strategy concurrently, on one account and one store.

    Args:
        config: the portfolio's weights and limits.
        members: the strategies that loaded; ``deciders`` has one decider per name.
        market_data: the shared per-cycle market data (wrapping the one client).
        account: the exchange account's balances and fees (the client when live, the
            portfolio's paper exchange when dry).
        executor: sends netted orders, through the portfolio's pre-trade gate.
        engines: builds each member's engine (see ``MemberEngines``).
        store: the one store; ledgers and netting plans are kept in it too.
        failures: strategy files that did not load, reported in every result.
        twap_runs: the TWAP runs to count as commitments (all of them; filtered here).
    """

    def __init__(
        self,
        config: PortfolioConfig,
        members: Sequence[MemberSpec],
        *,
        deciders: Mapping[str, Decider],
        market_data: SharedMarketData,
        account: Account,
        executor: OrderExecutor,
        engines: MemberEngines,
        store: Store,
        clock: Clock,
        failures: Sequence[LoadFailure] = (),
        twap_runs: TwapSource | None = None,
        ids: Callable[[], str] = new_run_id,
    ) -> None:
        self.config = config
        self.mode: Mode = executor.mode
        self.history: deque[PortfolioCycleResult] = deque(maxlen=50)
        self._members = {member.name: member for member in members}
        self._failures = tuple(failures)
        self._data, self._account, self._store, self._clock = market_data, account, store, clock
        self._twap_runs = twap_runs or (lambda: ())
        self._ids = ids
        self._opening: CycleOpening | None = None
        self._desk: NettingDesk | None = None
        self._cycle_settlements: list[Settlement] = []
        owner = book_owner(config.name, executor.mode.value)
        self._book = NettingBook(store, owner, clock)
        self.ledgers = {name: Ledger(store, ledger_key(owner, name), clock)
                        for name in self._members}
        self._ledgers_loaded = False
        self._unseeded: list[str] = []
        self._settler = Settler(portfolio=config.name, book=self._book, ledgers=self.ledgers,
                                executor=executor, store=store, clock=clock, ids=ids)
        self.exchanges = {name: LedgerExchange(name, self.ledgers[name], market_data, account,
                                               self) for name in self._members}
        self._batches = BatchSettler(
            self._settler, market_data,
            lambda market: market_data.once(("chance", market),
                                            lambda: account.order_chance(market)),
            ids)
        self._build_engine = engines
        self.engines = {name: self._engine(member, deciders[name])
                        for name, member in self._members.items()}

    @property
    def name(self) -> str:
        return self.config.name

    def _engine(self, member: MemberSpec, decider: Decider) -> TradingEngine:
        config = self._effective_config(member.config)
        section = config.strategy
        self._data.want_candles(config.market, section.candle_interval, section.candle_count)
        own_switch = config.risk.kill_switch_file
        return self._build_engine(
            config, exchange=self.exchanges[member.name], decider=decider,
            kill_switch=lambda: self._kill_switch_hit() or _file_exists(own_switch),
            committed_krw=lambda: self.committed_krw(member.name), ids=self._ids,
        )

    def _effective_config(self, config: StrategyConfig) -> StrategyConfig:
        """The strategy keeps at least the portfolio's reserve out of its slice."""
        pct = max(config.allocation.reserved_pool_pct, self.config.reserved_pool_pct)
        allocation = config.allocation.model_copy(update={"reserved_pool_pct": pct})
        return config.model_copy(update={"allocation": allocation})

    # -- the router the ledger exchanges send orders to ----------------------------------
    def refusal(self, side: Side) -> str | None:
        halt = self._opening.halt if self._opening else None
        if halt is None or not halt.reasons:
            return None
        if halt.kill_switch or side is Side.BUY:
            return "portfolio halted: " + ", ".join(halt.reasons)
        return None  # a daily-loss halt still lets strategies reduce risk

    def in_flight(self, client_order_id: str) -> Intent | None:
        return self._book.in_flight(client_order_id)

    async def submit(self, intent: Intent) -> Order:
        if self._desk is None:
            raise RuntimeError("orders are only accepted during a portfolio cycle")
        return await self._desk.submit(intent)

    def committed_krw(self, strategy: str) -> Decimal:
        """KRW the strategy must not spend: what the OTHER strategies' running TWAPs have
        yet to spend, and its cash beyond its slice."""
        if self._opening is None:
            return ZERO
        opening = self._opening
        return (capital.committed_for(strategy, opening.remainders)
                + opening.over_slice.get(strategy, ZERO))

    # -- one cycle ----------------------------------------------------------------------
    async def run_cycle(self) -> PortfolioCycleResult:
        """Run one cycle of every strategy; never raises for a strategy's failure."""
        run_id, started = self._ids(), self._clock.now()
        self._data.begin_cycle()
        self._opening, self._cycle_settlements = None, []
        self._store.write([RunRecord(run_id=run_id, strategy=self.name, market=PORTFOLIO_MARKET,
                                     mode=self.mode.value, started_at=started)])
        try:
            earlier = await self._settler.resume(run_id)
            self._opening = await self._open(run_id)
        except Exception as exc:
            log.error("portfolio cycle %s could not start: %s", run_id, exc)
            return self._record(self._failed(run_id, started, f"{type(exc).__name__}: {exc}"))
        self._desk = NettingDesk(self.engines, lambda batch: self._settle(batch, run_id))
        try:
            ran = await asyncio.gather(*(self._run_one(name) for name in self.engines))
            await self._desk.drain()
        finally:
            self._desk = None
        result = await self._result(run_id, started, ran, earlier)
        return self._record(result)

    async def _run_one(self, name: str) -> _Ran:
        assert self._desk is not None
        desk = self._desk
        try:
            cycle = await self.engines[name].run_cycle()
        except Exception as exc:  # isolation: one strategy's fault is its own
            log.error("strategy %s failed outside its cycle: %s", name, exc)
            return _Ran(name, "failed", None, f"{type(exc).__name__}: {exc}")
        finally:
            desk.finished(name)
        return _Ran(name, "ok" if cycle.ok else "failed", cycle, cycle.error)

    # -- opening ------------------------------------------------------------------------
    async def _open(self, run_id: str) -> CycleOpening:
        self._load_ledgers()
        # The market list is needed to price the balances: ask for both at once.
        balances, _ = await asyncio.gather(self._account.accounts(), self._data.markets())
        currencies = {b.currency for b in balances}
        for name, member in self._members.items():
            currencies.add(member.config.market.base)
            currencies |= {b.currency for b in self.ledgers[name].balances()}
        prices = await capital.read_prices(self._data, currencies, self._max_deviation)
        account = capital.value(balances, prices)
        warnings = self._seed(account)
        halt = self._assess(account)
        self._store.update_run(run_id, RunUpdate(
            total_equity_krw=account.equity_krw, cash_krw=account.cash_krw,
            position_value_krw=account.coins_krw, trading_state=halt.state.value,
            reserved_pool_krw=round_krw(self.config.reserved_pool_pct * account.equity_krw),
        ))
        over_slice = {name: self._over_slice(name, account, prices) for name in self._members}
        remainders = capital.twap_remainders(self._twap_runs(), self._store.load_twap_slices,
                                             dry_run=self.mode.dry_run)
        headroom = self.config.max_gross_exposure * account.equity_krw - account.coins_krw
        if account.unpriced:
            warnings.append(f"no KRW price for {', '.join(account.unpriced)}; left out")
        return CycleOpening(prices, account, halt, remainders, over_slice, headroom,
                            tuple(warnings))

    def _max_deviation(self, coin: str) -> Decimal:
        """How far a coin's ticker may be from its book: the strictest setting of the
        strategies trading it, else the default a strategy has."""
        limits = [member.config.strategy.max_ticker_deviation_pct
                  for member in self._members.values() if member.config.market.base == coin]
        return min(limits, default=DEFAULT_MAX_TICKER_DEVIATION)

    def _over_slice(self, name: str, account: capital.Valuation,
                    prices: Mapping[str, Decimal]) -> Decimal:
        balances = self.ledgers[name].balances()
        free = sum((b.balance for b in balances if b.currency == capital.KRW), ZERO)
        slice_value = capital.slice_krw(self._members[name].weight, account.equity_krw)
        return capital.over_slice(slice_value, capital.value(balances, prices), free)

    def _load_ledgers(self) -> None:
        """Read every ledger from the store once; remember the ones that do not exist."""
        if not self._ledgers_loaded:
            self._unseeded = [name for name, ledger in self.ledgers.items() if not ledger.load()]
            self._ledgers_loaded = True

    def _seed(self, account: capital.Valuation) -> list[str]:
        """Give each new ledger its slice in KRW, out of cash no ledger owns yet."""
        new, self._unseeded = self._unseeded, []
        owned = sum((b.total for ledger in self.ledgers.values() for b in ledger.balances()
                     if b.currency == capital.KRW), ZERO)
        seeds = capital.seed_amounts(
            [(name, self._members[name].weight) for name in new],
            account_equity=account.equity_krw, unowned_krw=account.cash_krw - owned,
        )
        for name, amount in seeds.items():
            self.ledgers[name].seed({"KRW": amount})
        if owned > account.cash_krw:
            return [f"the ledgers own {owned} KRW but the account holds {account.cash_krw}"]
        return []

    def _assess(self, account: capital.Valuation) -> RiskState:
        now = self._clock.now()
        day_start = self._store.first_equity_since(self.name, start_of_day_kst(now),
                                                   self.mode.value)
        return capital.assess_halt(self.config, equity_krw=account.equity_krw,
                                   day_start_equity=day_start,
                                   kill_switch=_file_exists(self.config.kill_switch_file),
                                   now=now)

    def _kill_switch_hit(self) -> bool:
        return self._opening is not None and self._opening.halt.kill_switch

    # -- settling the desk's batches ----------------------------------------------------
    async def _settle(self, intents: list[Intent], run_id: str) -> dict[str, Outcome]:
        opening = self._opening
        assert opening is not None
        outcomes, settlements = await self._batches.settle(
            intents, run_id, prices=opening.prices, headroom_krw=opening.headroom_krw)
        self._cycle_settlements.extend(settlements)
        return outcomes

    # -- the result ---------------------------------------------------------------------
    async def _result(self, run_id: str, started: datetime, ran: Sequence[_Ran],
                      earlier: Sequence[Settlement]) -> PortfolioCycleResult:
        opening = self._opening
        assert opening is not None
        strategies = [self._strategy_result(r, opening) for r in ran]
        strategies += [_failure_result(f) for f in self._failures]
        warnings = list(opening.warnings)
        account_equity = await self._account_equity(opening.prices, warnings)
        equity = sum((s.equity_krw or ZERO for s in strategies), ZERO)
        failed = any(not s.ok for s in strategies)
        return PortfolioCycleResult(
            run_id=run_id, portfolio=self.name, mode=self.mode.value,
            status="partial" if failed else "ok", started_at=started,
            finished_at=self._clock.now(), strategies=tuple(strategies),
            netting=tuple(NettingReport.of(s) for s in self._cycle_settlements),
            settled_earlier=tuple(NettingReport.of(s) for s in earlier),
            halted=bool(opening.halt.reasons), halt_reasons=opening.halt.reasons,
            cash_krw=plain(sum((s.cash_krw or ZERO for s in strategies), ZERO)),
            positions=total_positions(s.positions for s in strategies), equity_krw=plain(equity),
            account_equity_krw=account_equity,
            unallocated_krw=None if account_equity is None else plain(account_equity - equity),
            warnings=tuple(warnings),
        )

    def _strategy_result(self, ran: _Ran, opening: CycleOpening) -> StrategyCycleResult:
        member = self._members[ran.name]
        ledger = capital.value(self.ledgers[ran.name].balances(), opening.prices)
        return StrategyCycleResult(
            strategy=ran.name, status=ran.status, weight=member.weight,
            source=str(member.source), cycle=ran.cycle, error=ran.error,
            slice_krw=capital.slice_krw(member.weight, opening.account.equity_krw),
            committed_krw=capital.committed_for(ran.name, opening.remainders),
            cash_krw=plain(ledger.cash_krw),
            positions=positions_of(ledger), equity_krw=plain(ledger.equity_krw),
        )

    async def _account_equity(self, prices: dict[str, Decimal],
                              warnings: list[str]) -> Decimal | None:
        try:
            return capital.value(await self._account.accounts(), prices).equity_krw
        except Exception as exc:
            warnings.append(f"account not read after the cycle: {type(exc).__name__}: {exc}")
            return None

    def _failed(self, run_id: str, started: datetime, error: str) -> PortfolioCycleResult:
        skipped = [StrategyCycleResult(strategy=name, status="skipped", weight=member.weight,
                                       source=str(member.source), error=error)
                   for name, member in self._members.items()]
        return PortfolioCycleResult(
            run_id=run_id, portfolio=self.name, mode=self.mode.value, status="failed",
            started_at=started, finished_at=self._clock.now(),
            strategies=(*skipped, *(_failure_result(f) for f in self._failures)), error=error,
        )

    def _record(self, result: PortfolioCycleResult) -> PortfolioCycleResult:
        self._store.update_run(result.run_id, RunUpdate(
            status=result.status, finished_at=result.finished_at, error=result.error,
            result_json=result.summary(),
        ))
        self.history.append(result)
        return result


def _failure_result(failure: LoadFailure) -> StrategyCycleResult:
    return StrategyCycleResult(strategy=failure.name, status="failed", weight=failure.weight,
                               source=str(failure.source), error=failure.error)


def _file_exists(path: str | None) -> bool:
    return bool(path) and Path(path or "").exists()
