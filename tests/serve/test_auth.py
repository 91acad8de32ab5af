"""Tokens: control always needs one, reading needs one off loopback; secrets never leak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bithumb_llm_trader.errors import ConfigError
from bithumb_llm_trader.serve import ServeSettings, create_app, serve_settings

from .conftest import TOKEN, ServeDb, auth, make_client

KILL = "/api/v1/kill-switch"


def test_the_kill_switch_creates_and_removes_the_file(client: TestClient,
                                                      serve_db: ServeDb) -> None:
    path = serve_db.folder / "KILL_SWITCH"
    answer = client.post(KILL, json={"on": True}, headers=auth())
    assert answer.status_code == 200 and answer.json()["engaged"] is True
    assert path.exists()
    assert client.get("/api/v1/status").json()["kill_switch"]["engaged"] is True
    assert client.post(KILL, json={"on": True}, headers=auth()).status_code == 200
    assert client.post(KILL, json={"on": False}, headers=auth()).json()["engaged"] is False
    assert not path.exists()


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer "},
])
def test_control_without_the_right_token_is_401(client: TestClient, serve_db: ServeDb,
                                                headers: dict[str, str]) -> None:
    answer = client.post(KILL, json={"on": True}, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in answer.text
    assert not (serve_db.folder / "KILL_SWITCH").exists()


def test_without_a_token_control_is_disabled(serve_db: ServeDb) -> None:
    with make_client(serve_db) as client:
        answer = client.post(KILL, json={"on": True}, headers=auth())
        assert answer.status_code == 403 and "control disabled" in answer.json()["detail"]
        assert client.get("/api/v1/status").json()["control_enabled"] is False
        assert client.get("/api/v1/runs").status_code == 200  # loopback: reading is open


def test_without_a_kill_switch_file_control_refuses(serve_db: ServeDb) -> None:
    with make_client(serve_db, token=TOKEN, kill_switch_file=None) as client:
        answer = client.post(KILL, json={"on": True}, headers=auth())
        assert answer.status_code == 403 and "kill-switch" in answer.json()["detail"]


@pytest.mark.parametrize("body", [{"on": "yes"}, {"on": 1}, {}, {"on": True, "rm": "/"}])
def test_a_malformed_control_body_is_422(client: TestClient, body: object) -> None:
    assert client.post(KILL, json=body, headers=auth()).status_code == 422


def test_off_loopback_every_endpoint_needs_the_token(serve_db: ServeDb) -> None:
    with make_client(serve_db, token=TOKEN, host="0.0.0.0") as client:
        for path in ("/api/v1/status", "/api/v1/runs", "/api/v1/report", "/docs",
                     "/api/v1/openapi.json", "/api/v1/equity"):
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers=auth("x" * 32)).status_code == 401, path
            assert client.get(path, headers=auth()).status_code == 200, path
        assert client.get("/").status_code == 200  # the page holds no data
        assert client.get("/assets/app.js").status_code == 200


def test_off_loopback_without_a_token_it_refuses_to_start(serve_db: ServeDb) -> None:
    with pytest.raises(ConfigError, match="BITHUMB_TRADER_API_TOKEN"):
        serve_settings(config=None, db=serve_db.url, host="0.0.0.0", port=8080,
                       kill_switch_file=None, environ={})
    with pytest.raises(ConfigError):
        create_app(ServeSettings(database_url=serve_db.url, host="192.168.1.5"))


def test_no_answer_leaks_a_key_of_the_strategy_file(serve_db: ServeDb,
                                                    tmp_path: Path) -> None:
    secrets = ["real-access-key-aaaaaaaaaaaaaaaa", "real-secret-key-bbbbbbbbbbbbbbbbbbbb",
               "sk-real-openai-key-cccccccccccccccccc"]
    config = tmp_path / "strategy.json"
    config.write_text(json.dumps({
        "name": "alpha", "dry_run": False,
        "api": {"api_key": secrets[0], "api_secret": secrets[1]},
        "llm": {"api_key": secrets[2], "base_url": "https://user:pw-dddddddd@llm.example/v1"},
        "database": {"url": serve_db.url},
        "risk": {"kill_switch_file": str(tmp_path / "KILL")},
    }))
    settings = serve_settings(config=str(config), db=None, host="127.0.0.1", port=8080,
                              kill_switch_file=None, environ={"BITHUMB_TRADER_API_TOKEN": TOKEN})
    assert settings.strategy == "alpha" and settings.kill_switch_file == tmp_path / "KILL"
    assert TOKEN not in repr(settings)
    with TestClient(create_app(settings)) as client:
        texts = [client.get(path).text for path in (
            "/api/v1/status", "/api/v1/strategies", "/api/v1/positions", "/api/v1/runs",
            "/api/v1/decisions", "/api/v1/report", "/api/v1/openapi.json")]
        runs = client.get("/api/v1/runs", params={"limit": 500}).json()["items"]
        texts += [client.get(f"/api/v1/runs/{run['run_id']}").text for run in runs]
    for text in texts:
        for secret in [*secrets, "pw-dddddddd", TOKEN]:
            assert secret not in text
