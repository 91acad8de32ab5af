"""``create_app``: the FastAPI app over one database, opened read-only.

The API lives under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``, browsable at
``/docs``); the dashboard is the one page at ``/`` with its scripts under ``/assets``,
shipped in the package (no build step, no network). The page and its assets hold no
data, so they are served to anyone; everything else needs the token when the server is
reachable from other machines.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..clock import SystemClock
from ..errors import ConfigError
from ..ports import Clock
from ..report import ReportSource, open_report_source
from . import api_records, api_state, control
from .auth import CHALLENGE, require_reader
from .settings import ServeSettings
from .state import ServeState

API_PREFIX = "/api/v1"
PUBLIC_PATHS = ("/", "/favicon.ico")
PUBLIC_PREFIXES = ("/assets/",)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def static_dir() -> Path:
    """The dashboard's files, inside the installed package."""
    return Path(str(resources.files(__package__ or "bithumb_llm_trader.serve") / "static"))


def create_app(settings: ServeSettings, *, clock: Clock | None = None,
               source: ReportSource | None = None) -> FastAPI:
    """The app over ``settings.database_url``, checked and opened read-only now, so a
    wrong URL fails here (``StoreError``) rather than at the first request.

    Raises:
        StoreError: the database does not exist, is foreign, empty or of another version.
        ConfigError: a non-loopback host without a token.
    """
    if settings.token_everywhere and settings.token is None:
        raise ConfigError(f"listening on {settings.host} needs a token")
    source = source or open_report_source(settings.database_url)
    state = ServeState.build(settings, source, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with state.connect() as conn:  # index the strategies and modes once, up front
            state.pairs.get(conn)
        try:
            yield
        finally:
            state.source.close()

    app = FastAPI(title="bithumb-trader", version=__version__, lifespan=lifespan,
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url="/docs", redoc_url=None,
                  description="Read-only API over a bithumb-trader database, and its kill "
                              "switch. Money is exact decimal text; times are UTC.")
    app.state.serve = state
    guarded = [Depends(require_reader)]
    app.include_router(api_state.router, prefix=API_PREFIX, dependencies=guarded,
                       tags=["state"])
    app.include_router(api_records.router, prefix=API_PREFIX, dependencies=guarded,
                       tags=["records"])
    app.include_router(control.router, prefix=API_PREFIX, tags=["control"])
    app.mount("/assets", StaticFiles(directory=static_dir()), name="assets")
    app.middleware("http")(_guard(settings))

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(static_dir() / "index.html", media_type="text/html")

    return app


def _guard(settings: ServeSettings) -> Callable[
        [Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Security headers on every answer; the token in front of the docs and anything
    else that is not the page itself, when the server is reachable from elsewhere."""

    async def guard(request: Request,
                    call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        if settings.token_everywhere and not public and not _authorized(request, settings):
            response: Response = JSONResponse({"detail": "missing or wrong bearer token"},
                                              status_code=401, headers=CHALLENGE)
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return guard


def _authorized(request: Request, settings: ServeSettings) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = settings.token or ""
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode())
