"""The system's headless Chromium under Playwright, for what looks at viz's pages in a real
browser: the explorer's browser tests, bench.explore's step timings and the README's
screenshot (docs/images.py). Playwright drives the Chromium the system has; it never
downloads one.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from typing import Any, Iterator

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


class NoBrowser(RuntimeError):
    """Playwright or a system Chromium is missing; the message says how to get it."""


def find_chromium() -> str | None:
    """The system's Chromium: $CHROMIUM, else chromium or chromium-browser on PATH."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


@contextlib.contextmanager
def headless_chromium() -> Iterator[Any]:
    """A Playwright Browser on the system's Chromium, headless, closed on leaving; NoBrowser
    saying what to install where Playwright or Chromium is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise NoBrowser("Playwright is not installed (pip install playwright)") from None
    chromium = find_chromium()
    if chromium is None:
        raise NoBrowser("no Chromium found (apt-get install chromium, or set $CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
