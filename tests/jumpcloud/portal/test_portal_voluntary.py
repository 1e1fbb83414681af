"""The voluntary path: a user without any MFA requirement sets up the authenticator app from
the Security page, through the pages and through the JSON calls."""

from __future__ import annotations

from portal_support import PASSWORD, Admin, PortalUser, code_for, text_of

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator


def test_security_page_offers_setup_and_then_reads_active(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = admin.create_user("volunteer01", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    assert browser.login().json() == {"redirectTo": "/userconsole/"}
    # No requirement: the forced setup page is not shown.
    assert browser.get("/userconsole/mfa/setup").url.endswith("/userconsole/")

    security = browser.get("/userconsole/security")
    assert "Set Up Authenticator App" in text_of(security.text, "setup-authenticator-app")
    assert text_of(security.text, "totp-status") == "Authenticator App is not set up."
    get_app = browser.get("/userconsole/mfa/totp")
    assert text_of(get_app.text, "have-app") == "I Have the App"

    uri = browser.setup_totp()
    assert uri.issuer == "JumpCloud User"
    assert uri.account == user["email"]
    assert admin.user(user["_id"])["mfaEnrollment"]["totpStatus"] == "NOT_ENROLLED"

    wrong = browser.verify("000000" if code_for(uri, clock.now()) != "000000" else "111111")
    assert wrong.status_code == 401
    assert wrong.json()["attemptsRemaining"] == 4
    ok = browser.verify(code_for(uri, clock.now()))
    assert ok.status_code == 200, ok.text
    assert ok.json() == {
        "message": "Authenticator App Enrollment Successful!",
        "totpStatus": "ENROLLED",
    }

    security = browser.get("/userconsole/security")
    assert text_of(security.text, "totp-status") == "Authenticator App is active on your account."
    assert 'id="setup-authenticator-app"' not in security.text
    record = admin.user(user["_id"])
    assert record["totp_enabled"] is True
    assert record["mfaEnrollment"]["totpStatus"] == "ENROLLED"
    # Enrolled: no second setup, no QR code any more.
    assert browser.post("/userconsole/api/mfa/totp/setup").status_code == 409
    assert browser.get("/userconsole/api/mfa/totp/qr.png").status_code == 404
    assert browser.get("/userconsole/mfa/totp").url.endswith("/userconsole/security")


def test_mfa_status_call_reports_the_user_state(emulator: Emulator, admin: Admin) -> None:
    user = admin.create_user("volunteer02", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    mfa = browser.get("/userconsole/api/mfa").json()
    assert mfa["required"] is False
    assert mfa["totpEnabled"] is False
    assert mfa["gate"] == "open"
    assert mfa["canSetUpLater"] is False
    me = browser.get("/userconsole/api/self").json()
    assert me["email"] == user["email"]
    assert me["activated"] is True


def test_org_totp_switch(emulator: Emulator, admin: Admin, clock: VirtualClock) -> None:
    user = admin.create_user("volunteer03", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    uri = browser.setup_totp()
    assert browser.verify(code_for(uri, clock.now())).status_code == 200
    assert PortalUser(emulator, user["email"]).login().status_code == 401  # code owed

    off = admin.call("PUT", "/api/userportal/mfa/totp", json={"type": "totp", "enabled": False})
    assert off.status_code == 200
    # Factor off for the org: no code is asked, and nobody can start a setup.
    assert PortalUser(emulator, user["email"]).login().status_code == 200
    other = admin.create_user("volunteer04", password=PASSWORD)
    browser = PortalUser(emulator, other["email"])
    browser.login()
    assert browser.post("/userconsole/api/mfa/totp/setup").status_code == 403
