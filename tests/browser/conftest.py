"""
A headless Chromium driven by Playwright against the live server, for tests that use the product as
a person would. Debian's Chromium is used (`./run.sh test` installs it when it can); where there is
none, or it cannot start, these tests skip and say why.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Per module, so that the event loop and DJANGO_ALLOW_ASYNC_UNSAFE end with the browser tests.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if executable is None:
        pytest.skip("No Chromium: install Debian's `chromium` package (./run.sh test does, as root).")
    from playwright.sync_api import Error, sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are still
    # synchronous code, which Django would otherwise refuse inside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    serialized = {
        alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections
    }
    playwright = sync_playwright().start()
    # With a loop running in the thread, Django's connections become context-local (asgiref's
    # Local), so the tests get new connection objects: give them the database contents that
    # serialized_rollback restores (the built-in assistant a data migration made).
    for alias, contents in serialized.items():
        if contents is not None:
            connections[alias]._test_serialized_contents = contents
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Error as error:
        playwright.stop()
        pytest.skip(f"Chromium at {executable} did not start: {error.message.splitlines()[0]}")
    yield browser
    browser.close()
    playwright.stop()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Saves a screenshot under tests/artifacts/ (ignored by git) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
