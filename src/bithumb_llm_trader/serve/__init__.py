"""``bithumb-trader serve``: a REST API and a one-page dashboard over the database.

Read-only over the same database as ``report`` (SQLite opened ``mode=ro``; the report's
queries, plus the paged lookups of ``report.browse``), except for one control: the kill
switch, a file, behind a bearer token (``BITHUMB_TRADER_API_TOKEN``). FastAPI and
uvicorn come with the optional ``serve`` extra and are imported only from this package,
so every other command starts without them.

* ``settings``: resolving the database, kill-switch file, token and host rules;
* ``app``: ``create_app(settings)``, the routers and the dashboard's static files;
* ``server``: ``run_server(settings)``, uvicorn on the given host and port.
"""

from __future__ import annotations

from .app import API_PREFIX, create_app, static_dir
from .server import run_server
from .settings import TOKEN_ENV, ServeSettings, is_loopback, serve_settings

__all__ = [
    "API_PREFIX",
    "TOKEN_ENV",
    "ServeSettings",
    "create_app",
    "is_loopback",
    "run_server",
    "serve_settings",
    "static_dir",
]
