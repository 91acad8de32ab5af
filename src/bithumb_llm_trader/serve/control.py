"""The one control: the kill switch, a file whose presence halts every cycle.

Creating or removing that file is all this server may do; it never sends, cancels or
changes an order. Every press is logged with the client's address, never the token.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, StrictBool

from .auth import require_controller, state_of
from .state import ServeState

log = logging.getLogger(__name__)
router = APIRouter()


class KillSwitch(BaseModel):
    """``{"on": true}`` engages the kill switch, ``{"on": false}`` releases it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    on: StrictBool


@router.post("/kill-switch", summary="Engage or release the kill switch",
             dependencies=[Depends(require_controller)])
def kill_switch(body: KillSwitch, request: Request,
                state: Annotated[ServeState, Depends(state_of)]) -> dict[str, Any]:
    """Create (``on``) or remove the configured kill-switch file. Needs
    ``Authorization: Bearer <BITHUMB_TRADER_API_TOKEN>``."""
    path = state.settings.kill_switch_file
    if path is None:
        raise HTTPException(status_code=403, detail="control disabled: no kill-switch file "
                            "configured (serve --config CONFIG, or --kill-switch-file FILE)")
    try:
        if body.on:
            path.touch(exist_ok=True)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise HTTPException(status_code=503, detail=f"cannot change {path}: "
                            f"{exc.strerror or exc}") from exc
    client = request.client.host if request.client else "?"
    log.warning("kill switch %s by %s (%s)", "engaged" if body.on else "released", client, path)
    return {"engaged": path.exists(), "file": str(path)}
