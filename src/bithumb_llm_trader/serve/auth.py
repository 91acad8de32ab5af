"""Who may read and who may press the kill switch: a bearer token from the environment.

* Control (``POST /api/v1/kill-switch``) always needs ``Authorization: Bearer <token>``;
  with no token configured it is disabled (403), with a missing or wrong one 401.
* Reading needs the token too when the server listens on anything but loopback
  (``ServeSettings.token_everywhere``); on loopback it is open, as the database file is
  to anyone on the machine.

Tokens are compared in constant time and never echoed.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from .state import ServeState

BEARER = "bearer"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="bithumb-trader"'}


def state_of(request: Request) -> ServeState:
    state: ServeState = request.app.state.serve
    return state


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != BEARER or not value.strip():
        return None
    return value.strip()


def _check(request: Request, token: str) -> None:
    presented = _presented(request)
    if presented is None:
        raise HTTPException(status_code=401, detail="missing bearer token", headers=CHALLENGE)
    if not hmac.compare_digest(presented.encode(), token.encode()):
        raise HTTPException(status_code=401, detail="wrong token", headers=CHALLENGE)


def require_reader(request: Request) -> None:
    """Every API endpoint: the token, when the server is reachable from elsewhere."""
    settings = state_of(request).settings
    if settings.token_everywhere and settings.token is not None:
        _check(request, settings.token)


def require_controller(request: Request) -> None:
    """The control endpoints: always the token; without one configured, disabled."""
    settings = state_of(request).settings
    if settings.token is None:
        raise HTTPException(status_code=403, detail="control disabled: set "
                            "BITHUMB_TRADER_API_TOKEN to enable it")
    _check(request, settings.token)
