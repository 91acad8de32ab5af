"""Every read endpoint over a database of real dry cycles: shapes, paging, filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bithumb_llm_trader.clock import SystemClock
from bithumb_llm_trader.lease import LeaseManager
from bithumb_llm_trader.report import (
    Period,
    Scope,
    build_report,
    open_report_source,
    report_to_dict,
)
from bithumb_llm_trader.store import open_store

from .conftest import ServeDb, make_client

API = "/api/v1"


def get(client: TestClient, path: str, **params: Any) -> Any:
    answer = client.get(API + path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_status_names_the_mode_risk_state_and_last_cycle(client: TestClient,
                                                        serve_db: ServeDb) -> None:
    status = get(client, "/status")
    assert status["mode"] == "backtest"  # beta's B3 is the newest run
    assert status["last_cycle"]["run_id"] == serve_db.scenario.run_ids["B3"]
    alpha = status["by_mode"]["dry"]["alpha"]
    assert alpha["run_id"] == serve_db.scenario.run_ids["A9"]
    assert alpha["risk"] == {"state": "active", "reasons": [], "daily_pnl_krw": alpha["risk"][
        "daily_pnl_krw"], "in_cooldown": False}
    assert set(status["by_mode"]) == {"dry", "backtest"}
    assert status["leases"] == []
    assert status["kill_switch"]["configured"] is True
    assert status["control_enabled"] is True
    only_dry = get(client, "/status", mode="dry")
    assert only_dry["mode"] == "dry" and set(only_dry["by_mode"]) == {"dry"}


def test_status_shows_who_holds_a_lease(serve_db: ServeDb, tmp_path: Any) -> None:
    store = open_store(serve_db.url)
    lease = LeaseManager(store, clock=SystemClock()).acquire("dry:alpha", heartbeat=False)
    try:
        with make_client(serve_db) as client:
            leases = get(client, "/status")["leases"]
    finally:
        lease.release()
        store.close()
    assert [row["lease_key"] for row in leases] == ["dry:alpha"]
    assert "holder_token" not in leases[0] and leases[0]["holder_pid"] > 0


def test_strategies_list_their_modes(client: TestClient) -> None:
    answer = get(client, "/strategies")
    by_name = {item["name"]: item for item in answer["items"]}
    assert set(by_name) == {"alpha", "beta"}
    assert list(by_name["alpha"]["modes"]) == ["dry"]
    assert list(by_name["beta"]["modes"]) == ["backtest"]
    assert by_name["alpha"]["markets"] == ["KRW-BTC"]


def test_positions_per_mode_and_strategy(client: TestClient) -> None:
    answer = get(client, "/positions")
    alpha = answer["by_mode"]["dry"]["alpha"]
    assert alpha["last_price"] == "101000000"
    assert {h["currency"] for h in alpha["holdings"]} >= {"KRW"}
    beta = answer["by_mode"]["backtest"]["beta"]
    assert beta["guards"] and beta["guards"][0]["stop_loss_price"]
    assert set(get(client, "/positions", mode="dry")["by_mode"]) == {"dry"}


def test_runs_page_by_offset_and_by_cursor_cover_every_run_once(client: TestClient) -> None:
    every = get(client, "/runs", limit=500)["items"]
    assert len(every) == 12
    times = [run["started_at"] for run in every]
    assert times == sorted(times, reverse=True)
    assert "result_json" not in every[0]
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = get(client, "/runs", **params)
        seen += [run["run_id"] for run in page["items"]]
        cursor = page["next_cursor"]
        if not page["more"]:
            assert cursor is None
            break
    assert seen == [run["run_id"] for run in every]
    by_offset = get(client, "/runs", limit=5, offset=5)
    assert by_offset["next_offset"] == 10
    assert [r["run_id"] for r in by_offset["items"]] == seen[5:10]


@pytest.mark.parametrize(("params", "count"), [
    ({"mode": "dry"}, 9),
    ({"mode": "backtest"}, 3),
    ({"mode": ["dry", "backtest"]}, 12),
    ({"mode": "live"}, 0),
    ({"strategy": "beta"}, 3),
    ({"status": "failed"}, 1),
    ({"strategy": "alpha", "status": "ok"}, 8),
    ({"from": "2026-03-02T01:00Z", "to": "2026-03-02T02:00Z"}, 4),
    ({"from": "2026-03-02T12:00+09:00"}, 4),
])
def test_runs_filters(client: TestClient, params: dict[str, Any], count: int) -> None:
    assert len(get(client, "/runs", limit=100, **params)["items"]) == count


def test_since_is_relative_to_the_clock(client: TestClient) -> None:
    assert len(get(client, "/runs", since="3h30m")["items"]) == 6  # from 02:30
    assert get(client, "/runs", since="1h")["items"] == []


def test_a_run_record_has_every_step(client: TestClient, serve_db: ServeDb) -> None:
    record = get(client, f"/runs/{serve_db.scenario.run_ids['A1']}")
    assert record["run"]["status"] == "ok"
    assert record["llm_decision_requests"][0]["user_prompt"]
    signal = record["llm_signals"][0]
    assert signal["action"] == "buy" and signal["payload_json"]["rationale"]
    assert record["risk_verdicts"][0]["approved"] is True
    assert record["allocation_proposals"][0]["caps_hit_json"]
    assert record["orders"][0]["side"] == "bid"
    assert record["fills"] and record["llm_executions"][0]["status"] == "filled"
    rejected = get(client, f"/runs/{serve_db.scenario.run_ids['A5']}")
    assert rejected["risk_verdicts"][0]["reasons_json"] == ["confidence_below_min"]
    assert client.get(f"{API}/runs/no-such-run").status_code == 404


def test_decision_log(client: TestClient) -> None:
    lines = get(client, "/decisions", strategy="alpha", mode="dry", limit=50)["items"]
    assert len(lines) == 9
    actions = [line["action"] for line in reversed(lines)]
    assert actions[0] == "buy" and "sell" in actions
    sell = next(line for line in lines if line["action"] == "sell")
    assert sell["execution"]["side"] == "ask" and sell["execution"]["avg_price"]
    assert sell["execution"]["slippage_bps"] is not None
    assert sell["verdict"]["approved"] is True and sell["reason"]
    failed = next(line for line in lines if line["status"] == "failed")
    assert failed["action"] is None and "orderbook" in failed["error"]


def test_orders_fills_and_twaps(client: TestClient) -> None:
    orders = get(client, "/orders", limit=100)["items"]
    assert {o["side"] for o in orders} == {"bid", "ask"}
    assert all(o["state"] in ("done", "cancel") for o in orders)
    assert len(get(client, "/orders", status="cancel", limit=100)["items"]) < len(orders)
    fills = get(client, "/fills", limit=2)
    assert len(fills["items"]) == 2 and fills["more"]
    rest = get(client, "/fills", limit=500, cursor=fills["next_cursor"])["items"]
    every = get(client, "/fills", limit=500)["items"]
    assert fills["items"] + rest == every
    twaps = get(client, "/twap-runs")["items"]
    assert [t["twap_run_id"] for t in twaps] == ["tw-alpha-0001"]
    twap = get(client, "/twap-runs/tw-alpha-0001")
    assert [s["slice_no"] for s in twap["slices"]] == [1, 2]
    assert client.get(f"{API}/twap-runs/nope").status_code == 404


def test_equity_never_mixes_modes(client: TestClient) -> None:
    answer = get(client, "/equity")
    assert set(answer["by_mode"]) == {"dry", "backtest"}
    assert set(answer["by_mode"]["dry"]) == {"alpha"}
    assert set(answer["by_mode"]["backtest"]) == {"beta"}
    alpha = answer["by_mode"]["dry"]["alpha"]
    assert len(alpha) == 8 and alpha[0][1] == "1000000"  # the failed run has no equity
    assert len(get(client, "/equity", mode="dry", points=3)["by_mode"]["dry"]["alpha"]) == 3


def test_prices_with_trades_and_levels(client: TestClient) -> None:
    answer = get(client, "/prices", strategy="alpha")
    assert answer["mode"] == "dry" and answer["market"] == "KRW-BTC"
    assert len(answer["points"]) == 8
    sides = [t["side"] for t in answer["trades"]]
    assert sides.count("bid") >= 2 and "ask" in sides
    assert answer["levels"]["verdict"]["stop_loss_price"]
    beta = get(client, "/prices", strategy="beta", mode="backtest")
    assert beta["levels"]["guard"]["take_profit_price"]
    assert client.get(f"{API}/prices", params={"strategy": "nobody"}).status_code == 404
    assert client.get(f"{API}/prices", params={"strategy": "alpha", "mode": "live"}
                      ).status_code == 404


def test_model_usage_per_mode(client: TestClient) -> None:
    usage = get(client, "/model-usage")["by_mode"]
    assert usage["dry"]["total"]["requests"] == 7
    assert usage["dry"]["total"]["cost_usd"] == "0.00115"
    assert set(get(client, "/model-usage", mode="dry")["by_mode"]) == {"dry"}


def test_report_is_the_report_json(client: TestClient, serve_db: ServeDb) -> None:
    answer = get(client, "/report")
    source = open_report_source(serve_db.url)
    try:
        now = datetime.fromisoformat(answer["generated_at"])
        expected = report_to_dict(build_report(source, Scope(Period()), now=now))
    finally:
        source.close()
    assert answer == expected
    dry = get(client, "/report", mode="dry", strategy="alpha")
    assert dry["modes"] == ["dry"] and dry["strategies"] == ["alpha"]
    assert client.get(f"{API}/report", params={"strategy": "nobody"}).status_code == 404


def test_dashboard_and_assets_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "decision-log" in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/assets/vendor/lightweight-charts.standalone.production.js")
    assert script.status_code == 200 and "Apache License" in script.text[:400]
    licence = client.get("/assets/vendor/LICENSE-lightweight-charts.txt")
    assert "Apache License" in licence.text
    assert client.get("/assets/app.js").status_code == 200
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "bithumb-trader"
    assert client.get("/docs").status_code == 200
