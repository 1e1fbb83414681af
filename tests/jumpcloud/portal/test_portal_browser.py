"""Smoke test with a real browser: headless Chromium (Debian's) through Playwright walks the
forced enrollment on the emulator's pages (by role, label and text, as a person reads them:
the two-step login, the MFA dialog over the portal and its left menu); the QR code is read
from a screenshot of the page with zxing-cpp, exactly as a phone would read the screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
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


def _login(page: Page, url: str, email: str, path: str = "/login") -> None:
    """The two-step login: email → Continue → password → Log In."""
    page.goto(url + path)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log In").click()


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
    # A modal dialog over the portal, named by its heading; the left menu is behind it.
    dialog = page.get_by_role("dialog", name="Verify Your Identity")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()
    expect(dialog.get_by_text("7 days remaining")).to_be_visible()
    expect(dialog.get_by_role("button", name="Set Up Later")).to_be_visible()

    dialog.get_by_role("link", name="Continue").click()
    page.get_by_role("dialog").get_by_role("link", name="Set Up Authenticator App").click()
    page.get_by_role("button", name="I Have the App").click()
    page.wait_for_url("**/userconsole/mfa/totp/qr")
    qr = page.get_by_role("dialog", name="Scan the QR Code").get_by_role("img")
    expect(qr).to_be_visible()
    page.wait_for_function("() => Array.from(document.images).every(i => i.naturalWidth > 0)")
    shot = tmp_path / "qr-page.png"
    page.screenshot(path=str(shot), full_page=True)
    uri = parse_uri(decode_qr(shot.read_bytes()))
    assert uri.issuer == "JumpCloud User"
    assert uri.account == user["email"]

    page.get_by_role("link", name="Continue").click()
    verify = page.get_by_role("dialog", name="Verify Your Account")
    verify.get_by_label("Verification code").fill(code_for(uri, clock.now()))
    verify.get_by_role("button", name="Submit").click()
    done = page.get_by_role("dialog", name="Authenticator App Enrollment Successful!")
    done.get_by_role("link", name="Done").click()
    expect(page.get_by_text("Authenticator App is active on your account.")).to_be_visible()

    # Log out and back in: the login page's script asks for the code.
    page.get_by_role("button", name="Log Out").click()
    page.wait_for_url("**/login")
    clock.advance(30)
    _login(page, emulator.url, user["email"])
    expect(page.get_by_role("alert")).to_have_text("MFA required.")
    page.get_by_label("Verification code").fill(code_for(uri, clock.now()))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/userconsole/")
    expect(page.get_by_role("heading", name="Welcome, Tess")).to_be_visible()


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
    expect(page.get_by_role("alert")).to_contain_text("orgId")
    _login(page, emulator.url, "twinb@example.test", f"/login?org={second.id}")
    page.wait_for_url("**/userconsole/")
    expect(page.get_by_role("heading", name="Welcome, Second")).to_be_visible()
