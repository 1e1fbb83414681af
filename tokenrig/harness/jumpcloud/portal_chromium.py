"""The browser the portal driver runs in: Debian's headless Chromium through Playwright.

:class:`ChromiumSession` owns it: ``/usr/bin/chromium`` (Playwright never downloads one), a
fresh empty profile directory, one browser for many tests, a clean page (no cookies) per test.
Kept apart from the driver so the driver is only about reading the portal's pages.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from tokenrig.harness.jumpcloud.portal_client import PortalError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1000, "height": 900}


class _ThreadPlaywright(threading.local):
    """One Playwright driver per thread, shared by that thread's sessions: its sync API
    cannot be started a second time in a thread where it is running, so a session opened
    while another is open (the CLI inside a test process with a shared browser) uses it."""

    driver: Playwright | None = None
    users = 0

    def acquire(self) -> Playwright:
        if self.driver is None:
            self.driver = sync_playwright().start()
        self.users += 1
        return self.driver

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.driver is not None:
            self.driver.stop()
            self.driver = None


_PLAYWRIGHT = _ThreadPlaywright()


class ChromiumSession:
    """One headless Chromium with an empty profile; ``page()`` gives a clean page."""

    def __init__(self, executable: Path = CHROMIUM, *, args: tuple[str, ...] = CHROMIUM_ARGS):
        self.executable = executable
        self.args = args
        self._playwright: Playwright | None = None
        self._context: BrowserContext | None = None
        self._profile: Path | None = None

    def start(self) -> ChromiumSession:
        if self._context is not None:
            return self
        if not self.executable.exists():
            raise PortalError(
                f"{self.executable} not found: install Debian's chromium (./dev does); "
                "tokenrig never downloads a browser"
            )
        self._profile = Path(tempfile.mkdtemp(prefix="tokenrig-chromium-"))
        self._playwright = _PLAYWRIGHT.acquire()
        try:
            self._context = self._playwright.chromium.launch_persistent_context(
                str(self._profile),
                executable_path=str(self.executable),
                args=list(self.args),
                headless=True,
                viewport=VIEWPORT,  # type: ignore[arg-type]
            )
        except Exception:
            self.close()
            raise
        self._context.set_default_timeout(TIMEOUT_MS)
        return self

    def __enter__(self) -> ChromiumSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> str:
        if self._context is None or self._context.browser is None:
            return "unknown"
        return self._context.browser.version

    def page(self) -> Page:
        """A new page with no cookies and no other page open (a fresh user)."""
        if self._context is None:
            raise PortalError("the browser is not running; call start() first")
        for old in list(self._context.pages):
            old.close()
        self._context.clear_cookies()
        return self._context.new_page()

    def close(self) -> None:
        if self._context is not None:
            try:
                self._context.close()
            finally:
                self._context = None
        if self._playwright is not None:
            _PLAYWRIGHT.release()
            self._playwright = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
