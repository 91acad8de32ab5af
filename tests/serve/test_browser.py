"""The dashboard in a real browser: ``bithumb-trader serve`` on a real port over a
database of real dry cycles, driven by Playwright in Debian's headless Chromium.

Skips, saying why, when Playwright or Chromium is missing (``.ci/run`` installs both
where it can). Playwright cannot download its own browsers here, so the system's
Chromium is launched by path.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import TOKEN, ServeDb

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def chromium() -> str:
    found = os.environ.get("BITHUMB_TRADER_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")
    if not found:
        pytest.skip("no Chromium: install Debian's package (apt-get install chromium)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(serve_db: ServeDb, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``bithumb-trader serve`` in its own process, until the test ends."""
    port = free_port()
    switch = tmp_path / "KILL_SWITCH"
    env = {**os.environ, "BITHUMB_TRADER_API_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "bithumb_llm_trader.main", "serve", "--db", serve_db.url,
         "--port", str(port), "--kill-switch-file", str(switch)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/api/v1/status", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"serve did not start: {output}")
            time.sleep(0.1)
        yield base, switch
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_dashboard_shows_the_trades_and_presses_the_kill_switch(
        server: tuple[str, Path], tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    executable = chromium()
    base, switch = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/")
            page.wait_for_function(
                "document.querySelectorAll('#decision-log tbody tr').length >= 9")
            chart = page.locator("#price-chart")
            page.wait_for_function(
                "Number(document.getElementById('price-chart').dataset.markers) >= 4")
            assert chart.locator("canvas").count() > 0
            assert int(chart.get_attribute("data-points") or 0) == 8
            assert int(page.locator("#equity-chart").get_attribute("data-lines") or 0) == 1
            log = page.locator("#decision-log tbody")
            text = log.inner_text()
            assert "buy" in text and "sell" in text and "@" in text
            assert "rejected: confidence_below_min" in text
            assert page.locator("#decision-log tbody tr.sell").count() == 1
            assert page.locator("#decision-log tbody tr.buy").count() >= 3
            assert "stop" in page.locator("#levels").inner_text()
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

            assert not switch.exists()
            page.once("dialog", lambda dialog: dialog.accept(TOKEN))
            page.locator("#kill-button").click()
            page.wait_for_function(
                "document.getElementById('kill-state').textContent.includes('ENGAGED')")
            assert switch.exists()
            assert "engaged" in page.locator("#kill-message").inner_text()
            page.screenshot(path=str(tmp_path / "dashboard-halted.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    shown = os.environ.get("BITHUMB_TRADER_SCREENSHOT")
    if shown:  # how docs/dashboard.png is made
        shutil.copyfile(tmp_path / "dashboard.png", shown)
