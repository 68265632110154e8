"""A real Chromium for the browser tests: Debian's, driven by Playwright's sync API (never a
downloaded browser), and the auditeur's login through the real form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
#: Flags of every launch: no sandbox (containers), no GPU, no calls home.
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking")


@contextmanager
def chromium(*flags: str) -> Iterator[Any]:
    """Chromium launched headless with :data:`FLAGS` and ``flags``; closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*FLAGS, *flags])
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, base: str, username: str, password: str) -> None:
    """Log in through the login form at ``base``; returns once the desk is shown."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/?$"))
