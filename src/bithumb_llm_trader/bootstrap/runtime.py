"""The runtime of one strategy, for ``run`` and ``twap``: built once, closed once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..api_client import BithumbClient
from ..clock import SystemClock
from ..config import StrategyConfig
from ..domain import Mode
from ..engine import TradingEngine
from ..errors import LeaseHeld, StopError
from ..lease import Lease
from ..notify import Emitter, NullEmitter
from ..ports import Clock, Decider, Exchange
from ..records import TwapRunRecord
from ..store import SqlStore, open_store, redact_url
from ..store.connect import sqlite_path
from ..twap import TWAPExecutor
from .adapters import build_client, build_decider, build_paper, rule_decider
from .database import open_database, strategy_urls
from .engines import trading_engine, twap_executor
from .leasing import account_key, hold_account, holds, release_and_close
from .mode import ModeChoice, check_live, choose_mode, openai_key
from .notifying import build_notifier, close_notifier, engine_notices, tell_lease_refused


@dataclass(slots=True)
class Runtime:
    """Everything one command needs, built from one config; ``aclose`` it when done."""

    config: StrategyConfig
    choice: ModeChoice
    client: BithumbClient
    exchange: Exchange
    decider: Decider
    store: SqlStore
    clock: Clock
    notes: list[str] = field(default_factory=list)
    llm_http: httpx.AsyncClient | None = None
    lease: Lease | None = None
    events: Emitter = field(default_factory=NullEmitter)

    @property
    def mode(self) -> Mode:
        return self.choice.mode

    def engine(self, *, stop: asyncio.Event | None = None) -> TradingEngine:
        """The strategy's engine; ``stop`` (Ctrl-C) also stops a TWAP inside a cycle."""
        return trading_engine(self.config, exchange=self.exchange, decider=self.decider,
                              store=self.store, clock=self.clock, mode=self.mode, stop=stop,
                              holds_account=holds(self.lease), events=self.events,
                              notices=engine_notices(self.config, self.mode, self.events,
                                                     self.store))

    def twap(self) -> TWAPExecutor:
        return twap_executor(self.config, exchange=self.exchange, store=self.store,
                             clock=self.clock, mode=self.mode, holds_account=holds(self.lease),
                             events=self.events)

    async def aclose(self) -> None:
        close_notifier(self.events)
        try:
            await self.client.aclose()
            if self.llm_http is not None:
                await self.llm_http.aclose()
        finally:
            release_and_close(self.lease, self.store)


def build_runtime(
    config: StrategyConfig,
    *,
    live: bool = False,
    db_url: str | None = None,
    openai_api_key: str | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    reset_paper: bool = False,
    store_factory: Callable[[str], SqlStore] = open_store,
    decides: bool = True,
    wait_lease: timedelta | None = None,
) -> Runtime:
    """Wire a runtime for one strategy and take its account's lease. Makes no network call
    (but for the database).

    ``decides=False`` is for commands that only execute (a TWAP): no language model is
    set up and none is needed, so a live TWAP never asks for an OpenAI key.

    The database is ``db_url``, else the config's; a dry run whose database server is
    unreachable records into ``database.fallback_url`` (see ``database.open_database``).

    Raises:
        LeaseHeld: another process holds the account (after ``wait_lease``, if given).
        StoreError: the database cannot be used (and, for a dry run, neither its fallback).
    """
    clock = clock or SystemClock()
    choice = choose_mode(config.dry_run, live)
    llm_key = openai_key(config, openai_api_key)
    check_live(config, choice, llm_key, decides=decides)
    url, fallback_url = strategy_urls(config, db_url)
    store, db_notes = open_database(url, fallback_url=fallback_url, mode=choice.mode,
                                    store_factory=store_factory)
    lease: Lease | None = None
    try:
        # First, before anything that could send: one process per account and mode.
        key = account_key(config, choice.mode)
        try:
            lease = hold_account(store, key, wait=wait_lease)
        except LeaseHeld as refusal:
            tell_lease_refused(config, choice.mode, store, clock, refusal, key)
            raise
        notes = [*choice.notes, *db_notes]
        client = build_client(config, clock, transport)
        exchange: Exchange = client
        if not choice.live:
            paper = build_paper(config, source=client, client=client, store=store, clock=clock)
            if reset_paper:
                paper.reset()
                notes.append("paper wallet reset to the configured initial balances")
            exchange = paper
        decider, http = (build_decider(config, mode=choice, llm_key=llm_key, clock=clock,
                                       store=store, notes=notes)
                         if decides else (rule_decider(config), None))
    except BaseException:
        release_and_close(lease, store)
        raise
    return Runtime(config=config, choice=choice, client=client, exchange=exchange,
                   decider=decider, store=store, clock=clock, notes=notes, llm_http=http,
                   lease=lease, events=build_notifier(config, store,
                                                      extra_secret=openai_api_key))


def stored_twap_run(db_url: str, twap_run_id: str) -> TwapRunRecord | None:
    """A TWAP run as recorded, looked up before ``twap --resume`` builds anything.

    Opening an SQLite URL creates the file, so a missing file is refused first: a
    mistyped ``--db`` must not leave an empty database behind.

    Raises:
        StopError: the URL names an SQLite file that does not exist.
    """
    try:
        url = make_url(db_url)
    except (ArgumentError, ValueError):
        url = None  # open_store says what is wrong with it
    path = sqlite_path(url) if url is not None and url.get_backend_name() == "sqlite" else None
    if path is not None and not path.is_file():
        raise StopError(f"no database at {redact_url(db_url)}: {path} does not exist")
    store = open_store(db_url)
    try:
        return store.load_twap_run(twap_run_id)
    finally:
        store.close()


def redacted(db_url: str) -> str:
    """A database URL fit to print: the password hidden."""
    return redact_url(db_url)
