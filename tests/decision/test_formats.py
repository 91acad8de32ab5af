"""Which response formats to try, and the per-server memory."""

from __future__ import annotations

from bithumb_llm_trader.decision import ResponseFormatMemory, formats_to_try


def test_auto_starts_from_the_top_or_from_what_worked() -> None:
    assert formats_to_try("auto", None) == ("json_schema", "json_object", "text")
    assert formats_to_try("auto", "json_object") == ("json_object", "text")
    assert formats_to_try("auto", "text") == ("text",)


def test_a_configured_format_is_used_alone() -> None:
    assert formats_to_try("json_schema", None) == ("json_schema",)
    assert formats_to_try("text", "json_schema") == ("text",)


def test_memory_is_per_base_url() -> None:
    memory = ResponseFormatMemory()
    memory.remember("https://a.test/v1", "json_object")
    assert memory.working_format("https://a.test/v1") == "json_object"
    assert memory.working_format("https://b.test/v1") is None
    assert ResponseFormatMemory().working_format("https://a.test/v1") is None


def test_each_server_kind_has_its_ladder() -> None:
    assert formats_to_try("auto", None, "llamacpp") == (
        "json_object_schema", "json_object", "text")
    assert formats_to_try("auto", None, "vllm") == (
        "json_schema", "guided_json", "json_object", "text")
    assert formats_to_try("auto", None, "ollama") == ("json_schema", "json_object", "text")
    assert formats_to_try("auto", "guided_json", "vllm") == (
        "guided_json", "json_object", "text")
    # a format remembered from another ladder starts this one from the top
    assert formats_to_try("auto", "guided_json", "llamacpp")[0] == "json_object_schema"
    assert formats_to_try("json_object", None, "llamacpp") == ("json_object",)


def test_context_and_token_ratio_are_per_model_on_a_shared_server() -> None:
    memory = ResponseFormatMemory()
    memory.calibrate("https://a.test/v1", "big", 1000, 1500)
    memory.calibrate("https://a.test/v1", "small", 1000, 2500)
    server = memory.server("https://a.test/v1")
    assert server.model("big").token_ratio == 1.5
    assert server.model("small").token_ratio == 2.5
    assert server.model("new").token_ratio == 1.0
    memory.calibrate("https://a.test/v1", "wild", 10, 1000)
    assert server.model("wild").token_ratio == 3.0  # clamped: one odd count cannot run away
