"""A real HTTP receiver on 127.0.0.1 for ``json://`` targets, and the two send paths.

Paths decide the answer: ``/fail...`` answers 500, ``/hang...`` never answers (until the
receiver closes), anything else 200. Every request is kept, body parsed as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                receiver.requests.append(Received(self.command, self.path,
                                                  dict(self.headers.items()), body))
                if self.path.startswith("/hang"):
                    receiver.release.wait(10)
                    return
                status = 500 if self.path.startswith("/fail") else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", scheme: str = "json", userinfo: str = "") -> str:
        return f"{scheme}://{userinfo}127.0.0.1:{self.port}{path}"

    @property
    def bodies(self) -> list[Any]:
        return [request.body for request in self.requests]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(params=["apprise", "plain"])
def send_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways out: through apprise, and over httpx with apprise made missing."""
    if request.param == "apprise":
        pytest.importorskip("apprise")
    else:
        monkeypatch.setitem(sys.modules, "apprise", None)  # import apprise -> ImportError
    return str(request.param)
