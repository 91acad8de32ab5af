"""The record endpoints: runs, a run's full record, the decision log, orders, fills and
TWAP runs, each a page at a time (newest first) with the same filters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path

from ..report import browse
from ..store import schema as s
from .answers import page_answer, reading
from .auth import state_of
from .encode import plain
from .params import ID_PATTERN, Listing, listing_of
from .state import ServeState

router = APIRouter()
StateDep = Annotated[ServeState, Depends(state_of)]
ListingDep = Annotated[Listing, Depends(listing_of)]
RunId = Annotated[str, Path(pattern=ID_PATTERN, description="a run id")]
TwapId = Annotated[str, Path(pattern=ID_PATTERN, description="a TWAP run id")]


@router.get("/runs", summary="Runs, newest first")
def runs(listing: ListingDep, state: StateDep) -> dict[str, Any]:
    """Cycles (``cron_runs``), filtered by mode, strategy, status and time; ``status``
    is ok, failed, halted, interrupted ..."""
    with reading(state) as conn:
        page = browse.runs_page(conn, listing.filter, listing.page)
    return page_answer(page, listing)


@router.get("/runs/{run_id}", summary="One run's full record")
def run(run_id: RunId, state: StateDep) -> dict[str, Any]:
    """Everything one cycle wrote: the run with its result, positions, features, the
    prompt and the model's answer, the risk verdict with its reasons, the allocation
    with the caps that bit, the execution, orders, fills and TWAP slices."""
    with reading(state) as conn:
        record = browse.run_record(conn, run_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"no run {run_id!r}")
    answer: dict[str, Any] = plain(record)
    return answer


@router.get("/decisions", summary="The decision log, newest first")
def decisions(listing: ListingDep, state: StateDep) -> dict[str, Any]:
    """One line per run: the decision (action, confidence, the model's reason), the risk
    verdict, the allocation, the execution (order, fill, slippage)."""
    with reading(state) as conn:
        page = browse.runs_page(conn, listing.filter, listing.page)
        ids = [row["run_id"] for row in page.rows]
        parts = {
            "signal": browse.by_runs(conn, s.llm_signals, ids, (
                "action", "confidence", "payload_json", "hold_reason", "cost_usd",
                "fallback_used", "cached")),
            "request": browse.by_runs(conn, s.llm_decision_requests, ids, ("decider", "model")),
            "verdict": browse.by_runs(conn, s.risk_verdicts, ids, (
                "approved", "shrunk", "reasons_json", "stop_loss_price", "take_profit_price")),
            "allocation": browse.by_runs(conn, s.allocation_proposals, ids, (
                "side", "final_notional", "caps_hit_json")),
            "execution": browse.by_runs(conn, s.llm_executions, ids, (
                "method", "status", "side", "client_order_id", "twap_run_id", "avg_price",
                "filled_volume", "filled_funds", "fee", "slippage_bps")),
        }
    items = [decision_line(row, parts) for row in page.rows]
    return page_answer(page, listing, items)


def decision_line(run: dict[str, Any], parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    run_id = run["run_id"]
    signal = parts["signal"].get(run_id)
    request = parts["request"].get(run_id) or {}
    verdict = parts["verdict"].get(run_id)
    allocation = parts["allocation"].get(run_id)
    execution = parts["execution"].get(run_id)
    payload = (signal or {}).get("payload_json") or {}
    line = {
        "run_id": run_id, "strategy": run["strategy"], "mode": run["mode"],
        "started_at": run["started_at"], "status": run["status"], "error": run["error"],
        "last_price": run["last_price"], "equity_krw": run["total_equity_krw"],
        "decider": request.get("decider"), "model": request.get("model"),
        "action": None if signal is None else signal["action"],
        "confidence": None if signal is None else signal["confidence"],
        "reason": payload.get("rationale") if isinstance(payload, dict) else None,
        "hold_reason": None if signal is None else signal["hold_reason"],
        "cost_usd": None if signal is None else signal["cost_usd"],
        "verdict": None if verdict is None else {
            "approved": verdict["approved"], "shrunk": verdict["shrunk"],
            "reasons": verdict["reasons_json"], "stop_loss_price": verdict["stop_loss_price"],
            "take_profit_price": verdict["take_profit_price"]},
        "allocation": None if allocation is None else {
            "side": allocation["side"], "final_notional": allocation["final_notional"],
            "caps_hit": allocation["caps_hit_json"]},
        "execution": None if execution is None else {
            key: value for key, value in execution.items() if key != "run_id"},
    }
    answer: dict[str, Any] = plain(line)
    return answer


@router.get("/orders", summary="Orders, newest first")
def orders(listing: ListingDep, state: StateDep) -> dict[str, Any]:
    """Orders as sent (``status`` filters their state: wait, done, cancel ...)."""
    with reading(state) as conn:
        page = browse.orders_page(conn, listing.filter, listing.page)
    return page_answer(page, listing)


@router.get("/fills", summary="Fills, newest first")
def fills(listing: ListingDep, state: StateDep) -> dict[str, Any]:
    with reading(state) as conn:
        page = browse.fills_page(conn, listing.filter, listing.page)
    return page_answer(page, listing)


@router.get("/twap-runs", summary="TWAP runs, newest first")
def twap_runs(listing: ListingDep, state: StateDep) -> dict[str, Any]:
    """TWAP parents; each one's slices at ``/twap-runs/{id}``."""
    with reading(state) as conn:
        page = browse.twap_runs_page(conn, listing.filter, listing.page)
    return page_answer(page, listing)


@router.get("/twap-runs/{twap_run_id}", summary="One TWAP run with its slices")
def twap_run(twap_run_id: TwapId, state: StateDep) -> dict[str, Any]:
    with reading(state) as conn:
        found = browse.twap_run(conn, twap_run_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no TWAP run {twap_run_id!r}")
    answer: dict[str, Any] = plain(found)
    return answer
