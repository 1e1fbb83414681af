"""The User Portal in a real browser: headless Debian Chromium driven by Playwright.

:class:`PortalDriver` offers the same calls and result types as
:class:`~tokenrig.harness.jumpcloud.portal_client.PortalClient`, but clicks through the pages a user
sees (login form, "Set Up Multi-Factor Authentication", "I Have the App", the QR code page,
"Verify Your Account", Security). The QR code is taken as a screenshot of its element, to be
decoded like a phone camera would; nothing reads the key out of the HTML.

Every action leaves a screenshot (handed to ``on_screenshot`` and, if given, written to
``screenshot_dir``). The QR code, the text key under it and password fields are masked in
those screenshots: a report must never carry a seed or a password, not even as pixels.

:class:`ChromiumSession` owns the browser: Debian's ``/usr/bin/chromium`` (Playwright never
downloads one), a fresh empty profile directory, one browser for many tests, a clean page
(no cookies) per test.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Locator, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tokenrig.harness.jumpcloud.portal_client import (
    LoginOutcome,
    LoginResult,
    PortalError,
    VerifyOutcome,
    VerifyResult,
    classify_login_message,
)
from tokenrig.harness.secrets import SecretText

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

ScreenshotSink = Callable[[str, bytes], None]


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
        self._playwright = sync_playwright().start()
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
            self._playwright.stop()
            self._playwright = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class PortalDriver:
    """One portal user in one browser page, against the portal at ``base_url``."""

    kind = "browser"

    def __init__(
        self,
        page: Page,
        base_url: str,
        *,
        on_screenshot: ScreenshotSink | None = None,
        screenshot_dir: Path | None = None,
    ) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.on_screenshot = on_screenshot
        self.screenshot_dir = screenshot_dir
        self.screenshots: list[str] = []

    def __repr__(self) -> str:
        return f"PortalDriver({self.base_url})"

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def screenshot(self, name: str) -> bytes:
        """A full-page screenshot with the QR code, key and password fields masked."""
        masks: list[Locator] = [
            self.page.locator("#totp-qr"),
            self.page.locator("#totp-key"),
            self.page.locator("input[type=password]"),
        ]
        png = self.page.screenshot(full_page=True, mask=masks, animations="disabled")
        label = f"{len(self.screenshots) + 1:02d} {name}"
        self.screenshots.append(label)
        if self.screenshot_dir is not None:
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            (self.screenshot_dir / f"{_slug(label)}.png").write_bytes(png)
        if self.on_screenshot is not None:
            self.on_screenshot(label, png)
        return png

    def _text(self, selector: str) -> str:
        found = self.page.locator(selector)
        return found.inner_text().strip() if found.count() else ""

    def _expect(self, selector: str, what: str) -> None:
        if not self.page.locator(selector).count():
            heading = self._text("h1") or "no heading"
            raise PortalError(f"expected {what}, but the browser is at {self.path} ({heading!r})")

    def _wait(self, settled: Callable[[], bool], what: str) -> None:
        """Poll ``settled`` until it holds (pages may be navigating under it)."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            try:
                if settled():
                    self.page.wait_for_load_state()
                    return
            except PlaywrightError:
                pass  # the page navigated while we looked; look again
            self.page.wait_for_timeout(50)
        raise PortalError(f"timed out waiting for {what} (browser at {self.path})")

    # -- activation and login ---------------------------------------------------------------------
    def activate(self, link: str, password: SecretText) -> None:
        """Open the activation mail's link and choose the password."""
        self.page.goto(link)
        self._expect("#activate-form", "the set-password form")
        self.page.fill("#new-password", password.reveal())
        self.page.fill("#confirm-password", password.reveal())
        self.screenshot("activation - password chosen")
        self.page.click("#set-password")
        self.page.wait_for_load_state()
        self.screenshot("activation - submitted")
        if not self.page.locator("#activated-title").count():
            reason = self._text("#activate-error") or self._text("#message-text")
            raise PortalError(f"activation refused: {reason or self._text('h1')}")

    def login(self, email: str, password: SecretText) -> LoginResult:
        """Log in afresh (a still signed-in session is dropped first, as a new visitor)."""
        self.goto("/login")
        if self.path != "/login":  # the portal sent a signed-in session elsewhere
            self.page.context.clear_cookies()
            self.goto("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password.reveal())
        self.screenshot("login - credentials entered")
        self.page.click("#login-submit")
        return self._login_outcome(code_step=False)

    def submit_login_code(self, code: str) -> LoginResult:
        self._expect("#otp-form:not([hidden])", "the login code form")
        self.page.fill("#otp", code)
        self.screenshot("login - code entered")
        self.page.click("#otp-submit")
        return self._login_outcome(code_step=True)

    def _login_outcome(self, *, code_step: bool) -> LoginResult:
        otp_form = self.page.locator("#otp-form")
        error = self.page.locator("#login-error")

        def settled() -> bool:  # non-waiting looks only: the page may be navigating away
            if self.path != "/login":
                return True
            if "".join(error.all_inner_texts()).strip():
                return True
            return not code_step and otp_form.is_visible()

        self._wait(settled, "the login to finish")
        self.screenshot("login - result")
        if self.path.startswith("/userconsole/mfa/setup"):
            return LoginResult(LoginOutcome.SETUP_REQUIRED)
        if self.path != "/login":
            return LoginResult(LoginOutcome.SIGNED_IN)
        message = error.inner_text().strip()
        if otp_form.is_visible() and not code_step:
            return LoginResult(LoginOutcome.CODE_REQUIRED, message)
        return LoginResult(classify_login_message(message), message)

    def logout(self) -> None:
        self.goto("/userconsole/")
        self._expect("#logout", "the Log Out button")
        self.page.click("#logout")
        self.page.wait_for_load_state()
        if self.path != "/login":
            raise PortalError(f"Log Out did not return to /login (at {self.path})")

    # -- authenticator app ------------------------------------------------------------------------
    def open_totp_setup(self, *, forced: bool) -> bytes:
        """Walk to the QR code page and return a screenshot of the QR code element alone."""
        if forced:
            if not self.path.startswith("/userconsole/mfa/setup"):
                self.goto("/userconsole/")
            self._expect("#mfa-setup-title", '"Set Up Multi-Factor Authentication"')
            self.screenshot("set up multi-factor authentication")
        else:
            self.goto("/userconsole/security")
            self._expect("#security-title", "the Security page (MFA setup is being forced)")
            self.screenshot("security - authenticator app not set up")
        self.page.click("#setup-authenticator-app")
        self.page.wait_for_load_state()
        self._expect("#have-app", 'the "I Have the App" button')
        self.screenshot("set up authenticator app")
        self.page.click("#have-app")
        self.page.wait_for_load_state()
        self._expect("#totp-qr", "the QR code page")
        return self._qr_element()

    def qr_png(self) -> bytes:
        """The QR code again (the page shows the same key until it is verified)."""
        self.goto("/userconsole/mfa/totp/qr")
        self._expect("#totp-qr", "the QR code page")
        return self._qr_element()

    def _qr_element(self) -> bytes:
        self.page.wait_for_function(
            "() => { const img = document.getElementById('totp-qr');"
            " return img && img.complete && img.naturalWidth > 0; }"
        )
        self.screenshot("QR code shown (masked in this screenshot)")
        # The unmasked element screenshot is only returned for decoding, never stored.
        png: bytes = self.page.locator("#totp-qr").screenshot(animations="disabled")
        return png

    def verify_totp(self, code: str) -> VerifyResult:
        """ "Verify Your Account": type the token's code and submit it."""
        if not self.page.locator("#totp-code").count():
            if self.page.locator("#totp-next").count():
                self.page.click("#totp-next")
                self.page.wait_for_load_state()
            else:
                self.goto("/userconsole/mfa/totp/verify")
        self._expect("#totp-code", '"Verify Your Account"')
        self.page.fill("#totp-code", code)
        self.screenshot("verify your account - code entered")
        self.page.click("#totp-submit")
        self.page.wait_for_load_state()
        self.screenshot("verify your account - result")
        if self.page.locator("#success-title").count():
            return VerifyResult(VerifyOutcome.ENROLLED, self._text("#success-title"))
        if self.page.locator("#verify-error").count():
            return VerifyResult(VerifyOutcome.REJECTED, self._text("#verify-error"))
        message = self._text("#message-text") or self._text("h1")
        if "locked" in message.lower():
            return VerifyResult(VerifyOutcome.LOCKED, message)
        raise PortalError(f"unexpected page after submitting the code: {message!r}")

    def totp_active(self) -> bool:
        """Open Security and read whether the authenticator app is active."""
        self.goto("/userconsole/security")
        self._expect("#totp-status", "the Security page's authenticator status")
        self.screenshot("security - authenticator app status")
        return "is active" in self._text("#totp-status")
