"""The forced path end to end over HTTP: admin requires MFA → activation mail → password →
login → "Set Up Multi-Factor Authentication" → "I Have the App" → QR PNG (decoded by zxing-cpp)
→ code computed with tokenrig.harness.otp → "Authenticator App Enrollment Successful!" → the console
API reports the enrollment → the next login owes a fresh code and refuses a replayed one."""

from __future__ import annotations

import re

from portal_support import PASSWORD, Admin, PortalUser, code_for, decode_qr, text_of

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.otp.uri import parse_uri


def test_forced_enrollment_through_the_pages(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user, link = admin.staged_then_activated(
        "forced01", enable_user_portal_multifactor=True, mfa={"exclusion": True, "exclusionDays": 7}
    )
    assert admin.user(user["_id"])["activated"] is False
    browser = PortalUser(emulator, user["email"])

    # Activation link → set-password page → activated.
    page = browser.get(link.removeprefix(emulator.url))
    assert page.status_code == 200
    assert text_of(page.text, "activate-title") == "Activate Your Account"
    assert browser.activate(link).status_code == 200
    assert admin.user(user["_id"])["activated"] is True

    # Login: the password is enough, but the portal sends the user to the MFA setup.
    response = browser.login()
    assert response.status_code == 200, response.text
    assert response.json() == {"redirectTo": "/userconsole/mfa/setup"}
    home = browser.get("/userconsole/")
    assert home.url.endswith("/userconsole/mfa/setup")
    # A modal dialog over the portal: "Verify Your Identity" → Continue → the methods.
    assert text_of(home.text, "mfa-setup-title") == "Verify Your Identity"
    assert 'role="dialog" aria-modal="true" aria-labelledby="mfa-setup-title"' in home.text
    methods = browser.get("/userconsole/mfa/setup?step=methods")
    assert text_of(methods.text, "mfa-setup-next") == "Set Up Authenticator App"
    assert "7 days remaining" in text_of(home.text, "days-remaining")
    assert 'id="setup-later"' in home.text

    # Authenticator App → "I Have the App" → QR code page with the key under the image.
    get_app = browser.get("/userconsole/mfa/totp")
    assert text_of(get_app.text, "have-app") == "I Have the App"
    qr_page = browser.form("/userconsole/mfa/totp/start")
    assert qr_page.url.endswith("/userconsole/mfa/totp/qr")
    key_on_page = text_of(qr_page.text, "totp-key")
    img = re.search(r'id="totp-qr"[^>]*src="([^"]+)"', qr_page.text)
    assert img is not None
    uri_text = decode_qr(browser.get(img.group(1).replace("&amp;", "&")).content)
    assert uri_text == (
        f"otpauth://totp/{user['email']}?secret={key_on_page}&issuer=JumpCloud%20User"
    )
    uri = parse_uri(uri_text)
    assert len(uri.secret) == 20  # 160-bit default
    assert admin.user(user["_id"])["mfaEnrollment"]["totpStatus"] == "PRE_ENROLLMENT"

    # "Verify Your Account" → Submit → success → Done → Security.
    verify = browser.get("/userconsole/mfa/totp/verify")
    assert text_of(verify.text, "verify-title") == "Verify Your Account"
    enroll_code = code_for(uri, clock.now())
    done = browser.form("/userconsole/mfa/totp/verify", {"otp": enroll_code})
    assert done.url.endswith("/userconsole/mfa/totp/success")
    assert text_of(done.text, "success-title") == "Authenticator App Enrollment Successful!"
    security = browser.get("/userconsole/security")
    assert text_of(security.text, "totp-status") == "Authenticator App is active on your account."

    # The console API sees the enrollment.
    record = admin.user(user["_id"])
    assert record["totp_enabled"] is True
    assert record["mfa"]["configured"] is True
    assert record["mfaEnrollment"]["totpStatus"] == "ENROLLED"
    info = admin.call("GET", f"/api/systemusers/{user['_id']}/totpinfo")
    assert info.status_code == 200
    assert info.json()["enrollmentDate"].startswith("2026-01-01T00:00:05")

    # Next login: MFA required; the enrollment code is refused (replay) even in its own step.
    later = PortalUser(emulator, user["email"])
    response = later.login()
    assert response.status_code == 401
    assert response.json() == {
        "message": "MFA required.",
        "factors": [{"type": "totp", "status": "available"}],
    }
    replay = later.post("/userconsole/auth/totp", {"otp": enroll_code})
    assert replay.status_code == 401
    assert replay.json() == {"message": "Authentication failed."}
    clock.advance(30)
    fresh = later.post("/userconsole/auth/totp", {"otp": code_for(uri, clock.now())})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json() == {"redirectTo": "/userconsole/"}
    assert later.get("/userconsole/").url.endswith("/userconsole/")


def test_login_with_inline_otp_and_replay_refused(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = admin.create_user("inline01", password=PASSWORD)
    first = PortalUser(emulator, user["email"])
    assert first.login().json() == {"redirectTo": "/userconsole/"}
    uri = first.setup_totp()
    assert first.verify(code_for(uri, clock.now())).status_code == 200

    clock.advance(30)
    code = code_for(uri, clock.now())
    second = PortalUser(emulator, user["email"])
    ok = second.login(otp=code)
    assert ok.status_code == 200, ok.text
    third = PortalUser(emulator, user["email"])
    replayed = third.login(otp=code)
    assert replayed.status_code == 401
    assert replayed.json()["message"] == "MFA required."
    assert third.get("/userconsole/api/self").status_code == 401
