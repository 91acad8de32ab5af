"""Running the app: uvicorn on one host and port, in this process, until Ctrl-C."""

from __future__ import annotations

import uvicorn

from ..ports import Clock
from .app import create_app
from .settings import ServeSettings


def run_server(settings: ServeSettings, *, clock: Clock | None = None,
               log_level: str = "info") -> None:
    """Open the database, build the app and serve it; returns when uvicorn stops.

    Raises:
        StoreError: the database cannot be read (before anything listens).
    """
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=log_level,
                            access_log=False, server_header=False, proxy_headers=False)
    uvicorn.Server(config).run()
