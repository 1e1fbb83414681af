"""The User Portal in a real browser: headless Debian Chromium driven by Playwright.

:class:`PortalDriver` offers the same calls and result types as
:class:`~tokenrig.harness.jumpcloud.portal_client.PortalClient`, but clicks through the pages a user
sees (email → Continue → password, the MFA dialog "Verify Your Identity", "I Have the App", the
QR code, "Verify Your Account", the Security page), finding every element as a person does: by
accessible role, label and visible text, with each wording JumpCloud is known to use
(``portal_wording.py``). No selector names an id or a test id, so the driver reads the real
portal as well as tokenrig's emulator (``tests/enrollment/test_portal_driver_locators.py``
fails the build otherwise). The QR code is the image in the dialog, taken as a screenshot to
be decoded like a phone camera would; the key printed beneath it is read as text and must be
the QR code's key.

Every action leaves a screenshot (handed to ``on_screenshot`` and, if given, written to
``screenshot_dir``). The QR code, the text key under it and password fields are masked in
those screenshots: a report must never carry a seed or a password, not even as pixels.

The browser itself is :class:`~tokenrig.harness.jumpcloud.portal_chromium.ChromiumSession`
(re-exported here).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from tokenrig.harness.enroll.qr import QrDecodeError, decode_qr
from tokenrig.harness.jumpcloud import portal_wording as words
from tokenrig.harness.jumpcloud.portal_chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    ChromiumSession,
)
from tokenrig.harness.jumpcloud.portal_client import (
    LoginOutcome,
    LoginResult,
    PortalError,
    VerifyOutcome,
    VerifyResult,
    classify_login_message,
)
from tokenrig.harness.jumpcloud.portal_key import check_printed_key, printed_key
from tokenrig.harness.jumpcloud.portal_wording import Wording
from tokenrig.harness.secrets import SecretText

ScreenshotSink = Callable[[str, bytes], None]
__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "ChromiumSession",
    "MfaPrompt",
    "PortalDriver",
    "check_printed_key",
    "printed_key",
]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


_ANY_PASSWORD = re.compile("password", re.IGNORECASE)


@dataclass(frozen=True)
class MfaPrompt:
    """What the forced MFA prompt says."""

    title: str
    days_remaining: int | None
    can_set_up_later: bool


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
        """A full-page screenshot with the QR code, the key and password fields masked."""
        dialog = self.page.get_by_role("dialog")
        masks: list[Locator] = [
            dialog.get_by_role("img"),
            dialog.get_by_text(words.BASE32_KEY),
            self.page.get_by_label(_ANY_PASSWORD),
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

    def _where(self) -> str:
        """Where the browser is, for an error: the path and the first heading shown."""
        heading = self.page.get_by_role("heading")
        text = heading.first.inner_text().strip() if heading.count() else "no heading"
        return f"{self.path} ({text!r})"

    def _expect(self, found: Locator, what: str, *, wait: bool = False) -> Locator:
        """``found``'s first match, or a :class:`PortalError` naming where the browser is."""
        if wait:
            with contextlib.suppress(PlaywrightError):  # not there: said below, with where
                found.first.wait_for(state="visible")
        if not found.count():
            raise PortalError(f"expected {what}, but the browser is at {self._where()}")
        return found.first

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

    def _clickable(self, scope: Page | Locator, wording: Wording) -> Locator:
        """A button or a link (the portal uses both for the same step) named ``wording``."""
        pattern = wording.pattern
        return scope.get_by_role("button", name=pattern).or_(
            scope.get_by_role("link", name=pattern)
        )

    def _click_to_next_page(self, target: Locator) -> None:
        with self.page.expect_navigation():
            target.click()
        self.page.wait_for_load_state()

    def _alert_text(self) -> str:
        return " ".join(self.page.get_by_role("alert").all_inner_texts()).strip()

    def _shows(self, found: Locator) -> bool:
        return found.count() > 0

    def _dialog(self) -> Locator:
        return self.page.get_by_role("dialog")

    # -- activation and login ---------------------------------------------------------------------
    def activate(self, link: str, password: SecretText) -> None:
        """Open the activation mail's link and choose the password."""
        self.page.goto(link)
        new = self.page.get_by_label(words.NEW_PASSWORD_FIELD.pattern)
        self._expect(new, "the set-password form").fill(password.reveal())
        confirm = self.page.get_by_label(words.CONFIRM_PASSWORD_FIELD.pattern)
        self._expect(confirm, str(words.CONFIRM_PASSWORD_FIELD)).fill(password.reveal())
        self.screenshot("activation - password chosen")
        button = self._clickable(self.page, words.SET_PASSWORD)
        self._click_to_next_page(self._expect(button, str(words.SET_PASSWORD)))
        self.screenshot("activation - submitted")
        if self._shows(self.page.get_by_role("heading", name=words.PASSWORD_SET.pattern)):
            return
        reason = self._alert_text() or self._where()
        raise PortalError(f"activation refused: {reason}")

    def login(self, email: str, password: SecretText) -> LoginResult:
        """Log in afresh (a still signed-in session is dropped first, as a new visitor):
        email → Continue → password → Log In."""
        self.goto("/login")
        if self.path != "/login":  # the portal sent a signed-in session elsewhere
            self.page.context.clear_cookies()
            self.goto("/login")
        field = self.page.get_by_label(words.EMAIL_FIELD.pattern)
        self._expect(field, str(words.EMAIL_FIELD)).fill(email)
        self._expect(self._clickable(self.page, words.CONTINUE), str(words.CONTINUE)).click()
        secret = self.page.get_by_label(words.PASSWORD_FIELD.pattern)
        self._expect(secret, str(words.PASSWORD_FIELD), wait=True).fill(password.reveal())
        self.screenshot("login - credentials entered")
        self._expect(self.page.get_by_role("button", name=words.LOG_IN.pattern), "Log In").click()
        return self._login_outcome(code_step=False)

    def submit_login_code(self, code: str) -> LoginResult:
        field = self.page.get_by_label(words.CODE_FIELD.pattern)
        self._expect(field, "the login code form").fill(code)
        self.screenshot("login - code entered")
        self._expect(self.page.get_by_role("button", name=words.SUBMIT.pattern), "Submit").click()
        return self._login_outcome(code_step=True)

    def _login_outcome(self, *, code_step: bool) -> LoginResult:
        code_field = self.page.get_by_label(words.CODE_FIELD.pattern)

        def settled() -> bool:  # non-waiting looks only: the page may be navigating away
            if self.path != "/login":
                return True
            if self._alert_text():
                return True
            return not code_step and code_field.count() > 0 and code_field.first.is_visible()

        self._wait(settled, "the login to finish")
        self.screenshot("login - result")
        if self.path.startswith("/userconsole/mfa/setup"):
            return LoginResult(LoginOutcome.SETUP_REQUIRED)
        if self.path != "/login":
            return LoginResult(LoginOutcome.SIGNED_IN)
        message = self._alert_text()
        if not code_step and code_field.count() and code_field.first.is_visible():
            return LoginResult(LoginOutcome.CODE_REQUIRED, message)
        return LoginResult(classify_login_message(message), message)

    def logout(self) -> None:
        self.goto("/userconsole/")
        button = self._clickable(self.page, words.LOG_OUT)
        self._click_to_next_page(self._expect(button, str(words.LOG_OUT)))
        if self.path != "/login":
            raise PortalError(f"Log Out did not return to /login (at {self.path})")

    # -- authenticator app ------------------------------------------------------------------------
    def open_totp_setup(self, *, forced: bool) -> bytes:
        """Walk to the QR code and return a screenshot of the QR image alone (after checking
        the key printed beneath it is the QR code's key)."""
        if forced:
            self._through_mfa_prompt()
        else:
            self._open_security_page()
            self.screenshot("security - authenticator app not set up")
            setup = self._clickable(self.page.get_by_role("main"), words.SET_UP_APP)
            self._click_to_next_page(self._expect(setup, str(words.SET_UP_APP)))
        have_app = self._clickable(self._dialog(), words.HAVE_APP)
        self._expect(have_app, str(words.HAVE_APP))
        self.screenshot("set up authenticator app")
        self._click_to_next_page(have_app.first)
        return self._qr_element()

    def _through_mfa_prompt(self) -> None:
        """The forced prompt: "Verify Your Identity" → Continue → the app (current wording),
        or "Set Up Multi-Factor Authentication" → "Set up TOTP" (older), to "I Have the App"."""
        prompt = self._dialog().filter(
            has=self.page.get_by_role("heading", name=words.MFA_PROMPT.pattern)
        )
        if not prompt.count():
            self.goto("/userconsole/")
        self._expect(prompt, str(words.MFA_PROMPT))
        self.screenshot("MFA prompt")
        for _ in range(3):
            dialog = self._dialog()
            if self._shows(self._clickable(dialog, words.HAVE_APP)):
                return
            choice = self._clickable(dialog, words.SET_UP_APP)
            if not self._shows(choice):
                choice = self._clickable(dialog, words.CONTINUE)
            self._click_to_next_page(self._expect(choice, f"{words.SET_UP_APP} or Continue"))
        self._expect(self._clickable(self._dialog(), words.HAVE_APP), str(words.HAVE_APP))

    def mfa_prompt(self) -> MfaPrompt:
        """Read the forced MFA prompt the browser shows: its title, the days left and
        whether "Set Up Later" is offered."""
        prompt = self._dialog().filter(
            has=self.page.get_by_role("heading", name=words.MFA_PROMPT.pattern)
        )
        if not prompt.count():
            self.goto("/userconsole/")
        self._expect(prompt, str(words.MFA_PROMPT))
        title = prompt.get_by_role("heading", name=words.MFA_PROMPT.pattern).first.inner_text()
        days = words.DAYS_LEFT.search(prompt.first.inner_text())
        later = self._shows(self._clickable(prompt, words.SET_UP_LATER))
        return MfaPrompt(title.strip(), int(days.group(1)) if days else None, later)

    def set_up_later(self) -> None:
        """ "Set Up Later" on the forced prompt: the portal's home, asked again next login."""
        self.mfa_prompt()
        later = self._clickable(self._dialog(), words.SET_UP_LATER)
        self._click_to_next_page(self._expect(later, str(words.SET_UP_LATER)))
        self.screenshot("set up later")
        if self._shows(self._dialog()):
            raise PortalError(f"Set Up Later did not close the MFA prompt ({self._where()})")

    def _open_security_page(self) -> None:
        """Home → the left menu's Security (older: Password) entry."""
        self.goto("/userconsole/")
        menu = self.page.get_by_role("navigation").get_by_role(
            "link", name=words.SECURITY_MENU.pattern
        )
        self._expect(menu, "the Security page in the menu (MFA setup is being forced?)")
        self._click_to_next_page(menu.first)
        heading = self.page.get_by_role("heading", name=words.SECURITY_MENU.pattern)
        self._expect(heading, "the Security page (MFA setup is being forced?)")

    def qr_png(self) -> bytes:
        """The QR code again (the page shows the same key until it is verified)."""
        self.goto("/userconsole/mfa/totp/qr")
        return self._qr_element()

    def _qr_element(self) -> bytes:
        dialog = self._dialog()
        image = self._expect(dialog.get_by_role("img"), "the QR code (an image in the dialog)")
        self._wait(
            lambda: bool(image.evaluate("img => img.complete && img.naturalWidth > 0")),
            "the QR code image to load",
        )
        self.screenshot("QR code shown (masked in this screenshot)")
        # The unmasked element screenshot is only returned for decoding, never stored.
        png: bytes = image.screenshot(animations="disabled")
        key = printed_key(dialog.first.inner_text())
        if key is None:
            raise PortalError("no key is printed beneath the QR code")
        try:
            qr_text = decode_qr(png, what="the QR code in the dialog")
        except QrDecodeError:
            return png  # unreadable: the procedure's decode step says so
        check_printed_key(qr_text, key)
        return png

    def verify_totp(self, code: str) -> VerifyResult:
        """ "Verify Your Account": type the token's code and submit it."""
        field = self._dialog().get_by_label(words.CODE_FIELD.pattern)
        if not self._shows(field):
            onward = self._clickable(self._dialog(), words.CONTINUE)
            if self._shows(onward):
                self._click_to_next_page(onward.first)
            else:
                self.goto("/userconsole/mfa/totp/verify")
        self._expect(field, str(words.VERIFY_ACCOUNT)).fill(code)
        self.screenshot("verify your account - code entered")
        submit = self._clickable(self._dialog(), words.SUBMIT)
        self._click_to_next_page(self._expect(submit, str(words.SUBMIT)))
        self.screenshot("verify your account - result")
        success = self.page.get_by_role("heading", name=words.ENROLLED.pattern)
        if self._shows(success):
            message = success.first.inner_text().strip()
            done = self._clickable(self._dialog(), words.DONE)
            self._click_to_next_page(self._expect(done, str(words.DONE)))
            return VerifyResult(VerifyOutcome.ENROLLED, message)
        alert = self._alert_text()
        if alert and not words.LOCKED.search(alert):
            return VerifyResult(VerifyOutcome.REJECTED, alert)
        message = alert or self.page.get_by_role("main").inner_text().strip()
        if words.LOCKED.search(message):
            return VerifyResult(VerifyOutcome.LOCKED, " ".join(message.split()))
        raise PortalError(f"unexpected page after submitting the code: {self._where()}")

    def totp_active(self) -> bool:
        """Open Security from the menu and read whether the authenticator app is active."""
        self._open_security_page()
        self.screenshot("security - authenticator app status")
        return self._shows(self.page.get_by_text(words.TOTP_ACTIVE.pattern))
