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
