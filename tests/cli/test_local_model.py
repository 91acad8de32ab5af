"""A keyless local model server (issue 17): ``llm.base_url`` on a host other than
OpenAI's is called without an OpenAI key, dry or live, and the notes say which decider
ran. Also: every ``llm_executions.result_json`` names the decision's ``agent_intent``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from bithumb_llm_trader.bootstrap import ModeChoice, check_live
from bithumb_llm_trader.bootstrap.mode import keyless_server
from bithumb_llm_trader.config import LLMConfig, StrategyConfig
from bithumb_llm_trader.domain import Mode
from bithumb_llm_trader.errors import LiveTradingRefused

from ..standin import chat_completion
from .test_run_cli import BUY, invoke, stand_in, table_rows, write_config

LOCAL = "http://127.0.0.1:8080/v1"
LIVE = ModeChoice(Mode.LIVE, ())
KEYS = {"api_key": "bithumb-access-key-0123456789", "api_secret": "bithumb-secret-0123456789"}


@respx.mock(assert_all_called=True)
def test_a_dry_run_without_a_key_calls_the_local_server(
    workdir: Path, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(f"{LOCAL}/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion(json.dumps(BUY))))
    standin, clock = stand_in()
    config = write_config(workdir, llm={"base_url": LOCAL, "model": "qwen2.5-7b-instruct"})
    result = invoke(["run", str(config), "--json"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["decision"]["decider"] == "llm" and out["decision"]["action"] == "buy"
    assert out["execution"]["status"] == "filled"
    assert route.called  # and nothing else: respx refuses any request it does not mock
    assert json.loads(route.calls.last.request.content)["model"] == "qwen2.5-7b-instruct"
    assert any(note.startswith("decider: llm, model qwen2.5-7b-instruct at 127.0.0.1:8080")
               and "without a key" in note for note in out["notes"])
    assert not any("rule-based" in note for note in out["notes"])
    tables = table_rows(workdir / "cli.db")
    assert tables["llm_decision_requests"][0]["base_url"] == LOCAL
    execution = tables["llm_executions"][0]
    assert json.loads(execution["result_json"])["agent_intent"] == "enter_long"
    assert execution["agent_intent"] == "enter_long"  # the column stays


def test_a_skipped_cycle_records_its_agent_intent_too(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, strategy={"decider": "rules", "candle_count": 60})
    result = invoke(["run", str(config), "--json"], standin, clock)
    assert result.exit_code == 0, result.output
    execution = table_rows(workdir / "cli.db")["llm_executions"][0]
    assert json.loads(execution["result_json"])["agent_intent"] == execution["agent_intent"]


@pytest.mark.parametrize(("base_url", "host"), [
    (None, None),
    ("https://api.openai.com/v1", None),
    ("https://eu.api.openai.com/v1", None),
    ("https://my-resource.openai.azure.com/openai", None),
    (LOCAL, "127.0.0.1:8080"),
    ("http://localhost:11434/v1", "localhost:11434"),
    ("http://user:secret@gpu-box.lan/v1?token=abc", "gpu-box.lan"),
    ("not a url", None),
])
def test_which_servers_need_no_key(base_url: str | None, host: str | None) -> None:
    assert keyless_server(LLMConfig(base_url=base_url)) == host


def test_a_live_run_with_a_local_model_needs_no_openai_key() -> None:
    local = StrategyConfig(dry_run=False, api=KEYS, llm={"base_url": LOCAL})
    check_live(local, LIVE, None)  # no error
    openai = StrategyConfig(dry_run=False, api=KEYS)
    with pytest.raises(LiveTradingRefused, match="needs an OpenAI key"):
        check_live(openai, LIVE, None)


SHADOW = "http://127.0.0.1:8089/v1"


@respx.mock(assert_all_called=True)
def test_a_shadow_model_decides_alongside_and_is_recorded_never_traded(
    workdir: Path, respx_mock: respx.MockRouter
) -> None:
    """Issue 18: ``llm.shadow_models`` ask the same prompt; the primary's answer trades,
    the shadow's is recorded with ``shadow`` set, and ``report --models`` compares them."""
    respx_mock.get(f"{LOCAL}/models").mock(return_value=httpx.Response(404))
    respx_mock.get(f"{SHADOW}/models").mock(return_value=httpx.Response(
        200, json={"object": "list", "data": [{"id": "smollm2", "owned_by": "me"}]}))
    respx_mock.get("http://127.0.0.1:8089/props").mock(return_value=httpx.Response(404))
    primary = respx_mock.post(f"{LOCAL}/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion(json.dumps(BUY))))
    hold = {**BUY, "action": "hold", "agent_intent": "hold", "risk_pct": 0}
    shadow = respx_mock.post(f"{SHADOW}/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion(json.dumps(hold))))
    standin, clock = stand_in()
    config = write_config(workdir, llm={
        "base_url": LOCAL, "model": "qwen2.5-7b-instruct", "api_key": "sk-primary-0123456789",
        "shadow_models": [{"model": "smollm2", "base_url": SHADOW}]})
    result = invoke(["run", str(config), "--json"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["decision"]["action"] == "buy" and out["execution"]["status"] == "filled"
    assert any("shadow models" in note and "smollm2" in note for note in out["notes"])
    sent = shadow.calls.last.request
    assert "authorization" not in sent.headers or "sk-primary" not in sent.headers[
        "authorization"]  # the primary's key never goes to another host
    assert json.loads(sent.content)["response_format"]["type"] == "json_object"  # llama.cpp
    # the same question: both formats are enforced, so neither adds schema text
    assert json.loads(primary.calls.last.request.content)["messages"] == json.loads(
        sent.content)["messages"]
    tables = table_rows(workdir / "cli.db")
    requests = {r["model"]: r for r in tables["llm_decision_requests"]}
    signals = {r["request_id"]: r for r in tables["llm_signals"]}
    assert requests["smollm2"]["shadow"] and not requests["qwen2.5-7b-instruct"]["shadow"]
    assert requests["smollm2"]["request_id"] == (
        requests["qwen2.5-7b-instruct"]["request_id"] + "-s1")
    assert requests["smollm2"]["user_prompt"] == requests["qwen2.5-7b-instruct"]["user_prompt"]
    assert signals[requests["smollm2"]["request_id"]]["action"] == "hold"
    assert len(tables["llm_executions"]) == 1  # only the primary traded
