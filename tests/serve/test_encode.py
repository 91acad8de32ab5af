"""A model server's URL reaches an answer as the decision records hold it: no secrets."""

from __future__ import annotations

import pytest

from bithumb_llm_trader.decision import public_base_url
from bithumb_llm_trader.serve.encode import plain


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:sk-123@llm.example/v1?api-key=x#frag", "https://llm.example/v1"),
    ("http://[::1]:8089/v1", "http://[::1]:8089/v1"),  # an IPv6 host keeps its brackets
    ("http://host:99999/v1", "(hidden)"),  # a port no URL can have: hidden whole
])
def test_a_base_url_in_an_answer_has_no_credentials(url: str, shown: str) -> None:
    assert plain({"base_url": url, "note": url}) == {"base_url": shown, "note": url}
    if shown != "(hidden)":
        assert shown == public_base_url(url)  # the same text the audit rows hold
