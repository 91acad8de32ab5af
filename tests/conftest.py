"""Suite-wide settings. Async tests run on asyncio through anyio's pytest plugin
(anyio comes with httpx), marked with ``pytest.mark.anyio``."""

from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A command line's working directory: empty, with no key in the environment."""
    monkeypatch.chdir(tmp_path)
    for variable in ("BITHUMB_API_KEY", "BITHUMB_API_SECRET", "OPENAI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path
