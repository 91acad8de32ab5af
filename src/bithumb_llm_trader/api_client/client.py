"""``BithumbClient``: the async adapter behind ``ports.Exchange``.

Every call goes through one pipeline: keys checked before any I/O, the rate limiter,
the HTTP request (signed when private), the answer decoded or turned into a typed error,
and, for idempotent calls only, retries with backoff on the injected clock. An order
placement is never repeated here: a lost answer is resolved by looking the order up by
its ``client_order_id``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx

from ..clock import SystemClock
from ..domain import (
    Balance,
    Candle,
    CandleInterval,
    Market,
    Order,
    Orderbook,
    OrderChance,
    OrderRequest,
    Ticker,
    TradeTick,
)
from ..errors import AuthError, RetryableError, UnexpectedResponse
from ..ports import Clock
from . import endpoints as ep
from .auth import BithumbAuth
from .errors import decode_answer, transport_error
from .parsing import (
    parse_balances,
    parse_candles,
    parse_markets,
    parse_order,
    parse_order_chance,
    parse_orderbooks,
    parse_orders,
    parse_placed_order,
    parse_tickers,
    parse_trades,
    select_market,
)
from .ratelimit import RateLimiter
from .retry import RetryPolicy
from .wire import kst_param, order_body

logger = logging.getLogger(__name__)

Params = list[tuple[str, str]]


class BithumbClient:
    """Bithumb's public and private (JWT) REST API, returning domain objects.

    Args:
        base_url: API root.
        api_key: access key; private calls need it and ``api_secret``.
        api_secret: secret key; only ever used to sign, never shown.
        timeout: seconds per HTTP request.
        max_retries: repeats of an idempotent call after a transient fault.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        clock: time source and sleeper for retries, limits and signing.
        rate_limiter: shared limiter; a private one on ``clock`` when omitted.
        nonce_factory: JWT nonce source (uuid4 text when omitted).
    """

    def __init__(
        self,
        base_url: str = ep.DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        rate_limiter: RateLimiter | None = None,
        nonce_factory: Callable[[], str] | None = None,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._limiter = rate_limiter or RateLimiter(self._clock)
        self._retry = RetryPolicy(max_retries=max_retries)
        self._missing_keys = [what for what, value in
                              (("api_key", api_key), ("api_secret", api_secret)) if not value]
        self._auth: BithumbAuth | None = None
        if api_key and api_secret:
            self._auth = BithumbAuth(api_key, api_secret, clock=self._clock,
                                     nonce_factory=nonce_factory)
        self._base_url = base_url
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, transport=transport,
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return (f"BithumbClient(base_url={self._base_url!r}, "
                f"authenticated={self._auth is not None})")

    async def __aenter__(self) -> BithumbClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- public market data -------------------------------------------------------

    async def markets(self) -> list[Market]:
        payload = await self._call(ep.MARKETS, [(ep.PARAM_IS_DETAILS, ep.IS_DETAILS_FALSE)])
        return parse_markets(payload)

    async def ticker(self, market: Market) -> Ticker:
        return select_market(await self.tickers([market]), market, "ticker")

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        """Tickers of several markets in one request."""
        if not markets:
            return []
        joined = ep.PARAM_MARKETS_SEPARATOR.join(str(market) for market in markets)
        payload = await self._call(ep.TICKER, [(ep.PARAM_MARKETS, joined)])
        return parse_tickers(payload, self._clock.now())

    async def orderbook(self, market: Market) -> Orderbook:
        payload = await self._call(ep.ORDERBOOK, [(ep.PARAM_MARKETS, str(market))])
        return select_market(parse_orderbooks(payload), market, "orderbook")

    async def trades(self, market: Market, count: int) -> list[TradeTick]:
        """The latest ``count`` public trades, oldest first like candles."""
        if not 1 <= count <= ep.MAX_TRADES_PER_REQUEST:
            raise ValueError(f"count must be 1..{ep.MAX_TRADES_PER_REQUEST}, got {count}")
        params = [(ep.PARAM_MARKET, str(market)), (ep.PARAM_COUNT, str(count))]
        ticks = parse_trades(await self._call(ep.TRADES, params))
        return sorted(ticks, key=lambda tick: tick.timestamp)

    async def candles(
        self,
        market: Market,
        interval: CandleInterval,
        count: int,
        to: datetime | None = None,
    ) -> list[Candle]:
        """The ``count`` latest candles that opened before ``to`` (or now), oldest first.

        More than one page (200) is fetched by paging backwards with ``to`` set to the
        oldest candle seen, asking one extra in case the exchange counts ``to``
        inclusively; overlaps are dropped. Fewer than ``count`` come back only when the
        market's history ends.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        collected: dict[datetime, Candle] = {}
        page_to, overlap = to, 0
        while len(collected) < count:
            asked = min(count - len(collected) + overlap, ep.MAX_CANDLES_PER_REQUEST)
            page = await self._candle_page(market, interval, asked, page_to)
            fresh = {candle.start: candle for candle in page
                     if candle.start not in collected and (to is None or candle.start < to)}
            collected.update(fresh)
            if len(page) < asked or not fresh:
                break
            page_to, overlap = min(candle.start for candle in page), 1
        oldest_first = sorted(collected.values(), key=lambda candle: candle.start)
        return oldest_first[-count:]

    async def _candle_page(
        self, market: Market, interval: CandleInterval, count: int, to: datetime | None
    ) -> list[Candle]:
        params = [(ep.PARAM_MARKET, str(market)), (ep.PARAM_COUNT, str(count))]
        if to is not None:
            params.append((ep.PARAM_TO, kst_param(to)))
        return parse_candles(await self._call(ep.CANDLES[interval], params))

    # --- private: account ---------------------------------------------------------

    async def accounts(self) -> list[Balance]:
        return parse_balances(await self._call(ep.ACCOUNTS))

    async def order_chance(self, market: Market) -> OrderChance:
        payload = await self._call(ep.ORDER_CHANCE, [(ep.PARAM_MARKET, str(market))])
        return parse_order_chance(payload)

    # --- private: orders ----------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        """Send one order (``POST /v2/orders``); never retried here.

        Any transient error is raised with ``safe_to_retry`` False: the order may exist,
        so look it up with ``get_order(client_order_id=...)`` before sending again.
        """
        payload = await self._call(ep.PLACE_ORDER, body=order_body(request))
        try:
            return parse_placed_order(payload, request, self._clock.now())
        except UnexpectedResponse as exc:
            raise UnexpectedResponse(
                f"order {request.client_order_id} was probably placed but its answer is "
                f"unreadable: {exc}", idempotent=False,
            ) from exc

    async def get_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """One order with its fills, by exchange id (preferred) or our client id."""
        params = [_order_reference(ep.PARAM_UUID, order_id, client_order_id)]
        return parse_order(await self._call(ep.GET_ORDER, params))

    async def cancel_order(
        self, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> None:
        """Cancel one order; retried like a GET, since cancelling twice cannot trade.

        A retry whose first attempt did cancel may answer with an error (such as
        ``order_not_found``); check with ``get_order`` when that matters.
        """
        params = [_order_reference(ep.PARAM_ORDER_ID, order_id, client_order_id)]
        await self._call(ep.CANCEL_ORDER, params)

    async def open_orders(self, market: Market) -> list[Order]:
        """Orders of ``market`` still waiting; others are dropped should the exchange
        ignore the filter, so a caller never cancels what is not its market's."""
        params = [(ep.PARAM_MARKET, str(market)), (ep.PARAM_STATE, ep.STATE_WAIT)]
        orders = parse_orders(await self._call(ep.OPEN_ORDERS, params))
        return [order for order in orders if order.market == market]

    # --- the request pipeline -----------------------------------------------------

    async def _call(
        self,
        endpoint: ep.Endpoint,
        params: Params | None = None,
        *,
        body: dict[str, str] | None = None,
    ) -> Any:
        """Send with rate limiting and, for idempotent calls, retries; return the JSON."""
        self._require_keys(endpoint)
        retries_done = 0
        while True:
            try:
                return await self._send(endpoint, params, body)
            except RetryableError as exc:
                delay = self._retry.delay(exc, retries_done) if endpoint.idempotent else None
                if delay is None:
                    raise
                retries_done += 1
                logger.info("retry %d of %s %s in %.2f s after %s",
                            retries_done, endpoint.method, endpoint.path, delay,
                            type(exc).__name__)
                await self._clock.sleep(delay)

    async def _send(
        self, endpoint: ep.Endpoint, params: Params | None, body: dict[str, str] | None
    ) -> Any:
        where = f"{endpoint.method} {endpoint.path}"
        await self._limiter.acquire(endpoint.category)
        started = self._clock.monotonic()
        try:
            response = await self._http.request(
                endpoint.method, endpoint.path, params=None if params is None else tuple(params),
                content=None if body is None else json.dumps(body).encode("utf-8"),
                headers=None if body is None else {"Content-Type": ep.JSON_CONTENT_TYPE},
                auth=self._auth if endpoint.private else None,
            )
        except httpx.RequestError as exc:
            logger.debug("%s failed after %d ms: %s", where, self._ms_since(started),
                         type(exc).__name__)
            raise transport_error(where, exc, idempotent=endpoint.idempotent) from exc
        logger.debug("%s -> %d in %d ms", where, response.status_code,
                     self._ms_since(started))
        return decode_answer(response, where=where, idempotent=endpoint.idempotent,
                             now=self._clock.now())

    def _ms_since(self, started: float) -> int:
        return round((self._clock.monotonic() - started) * 1000)

    def _require_keys(self, endpoint: ep.Endpoint) -> None:
        if endpoint.private and self._auth is None:
            raise AuthError(
                f"{endpoint.method} {endpoint.path} is a private call but the client has "
                f"no {' and no '.join(self._missing_keys)}; configure both API keys "
                "(status 0: nothing was sent)",
                status=0,
            )


def _order_reference(
    id_param: str, order_id: str | None, client_order_id: str | None
) -> tuple[str, str]:
    """The query pair naming one order: the exchange id when known, else ours."""
    if order_id:
        return (id_param, order_id)
    if client_order_id:
        return (ep.PARAM_CLIENT_ORDER_ID, client_order_id)
    raise ValueError("give order_id or client_order_id")
