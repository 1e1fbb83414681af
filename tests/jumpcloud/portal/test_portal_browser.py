"""Smoke test with a real browser: headless Chromium (Debian's) through Playwright walks the
forced enrollment on the emulator's pages; the QR code is read from a screenshot of the page
with zxing-cpp, exactly as a phone would read the screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from portal_support import PASSWORD, Admin, code_for, decode_qr

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.portal_driver import CHROMIUM, CHROMIUM_ARGS
from tokenrig.harness.otp.uri import parse_uri

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: ./dev setup installs Debian's chromium package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _login(page: Page, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def test_forced_enrollment_in_chromium(
    page: Page, emulator: Emulator, admin: Admin, clock: VirtualClock, tmp_path: Path
) -> None:
    user = admin.create_user(
        "browser01",
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": 7},
    )
    _login(page, emulator.url, user["email"])
    page.wait_for_url("**/userconsole/mfa/setup")
    assert page.inner_text("h1") == "Set Up Multi-Factor Authentication"
    assert "7 days remaining" in page.inner_text("#days-remaining")
    assert page.is_visible("#setup-later")

    page.click("#setup-authenticator-app")
    page.click("#have-app")
    page.wait_for_url("**/userconsole/mfa/totp/qr")
    page.wait_for_function("document.getElementById('totp-qr').naturalWidth > 0")
    shot = tmp_path / "qr-page.png"
    page.screenshot(path=str(shot), full_page=True)
    uri = parse_uri(decode_qr(shot.read_bytes()))
    assert uri.issuer == "JumpCloud User"
    assert uri.account == user["email"]
    assert page.inner_text("#totp-key") in decode_qr(shot.read_bytes())

    page.click("#totp-next")
    assert page.inner_text("h1") == "Verify Your Account"
    page.fill("#totp-code", code_for(uri, clock.now()))
    page.click("#totp-submit")
    assert page.inner_text("h1") == "Authenticator App Enrollment Successful!"
    page.click("#done")
    assert page.inner_text("#totp-status") == "Authenticator App is active on your account."

    # Log out and back in: the login page's script asks for the code.
    page.click("#logout")
    page.wait_for_url("**/login")
    clock.advance(30)
    _login(page, emulator.url, user["email"])
    page.wait_for_selector("#otp-form", state="visible")
    assert page.inner_text("#login-error") == "MFA required."
    page.fill("#otp", code_for(uri, clock.now()))
    page.click("#otp-submit")
    page.wait_for_url("**/userconsole/")
    assert page.inner_text("#home-title") == "Welcome, Tess"


def test_the_login_page_of_one_org_signs_in_its_user(
    page: Page, emulator: Emulator, admin: Admin
) -> None:
    """``/login?org=ID``: an email held in two orgs signs in to the org the page names."""
    second_key = "browser-second-org-key"
    with emulator.state.lock:
        second = emulator.state.add_org(second_key, "Second")
    admin.create_user("twinb", password=PASSWORD, firstname="First")
    made = admin.http.post(
        emulator.url + "/api/systemusers",
        json={
            "username": "twinb",
            "email": "twinb@example.test",
            "password": PASSWORD,
            "firstname": "Second",
        },
        headers={"x-api-key": second_key},
        timeout=5,
    )
    assert made.status_code == 200, made.text
    _login(page, emulator.url, "twinb@example.test")
    page.wait_for_selector("#login-error:has-text('orgId')")
    page.goto(f"{emulator.url}/login?org={second.id}")
    page.fill("#email", "twinb@example.test")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/userconsole/")
    assert page.inner_text("#home-title") == "Welcome, Second"
