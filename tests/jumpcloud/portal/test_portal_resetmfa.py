"""resetmfa: the old authenticator stops working (its codes neither log in nor confirm a new
enrollment), a new enrollment works, and the TOTP key is never returned by any API."""

from __future__ import annotations

import json

from portal_support import PASSWORD, Admin, PortalUser, code_for

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.otp.base32 import encode_base32


def test_resetmfa_forgets_the_old_key_and_a_new_enrollment_works(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = admin.create_user(
        "reset01",
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": 7},
    )
    browser = PortalUser(emulator, user["email"])
    browser.login()
    old = browser.setup_totp()
    assert browser.verify(code_for(old, clock.now())).status_code == 200

    reset = admin.call("POST", f"/api/systemusers/{user['_id']}/resetmfa", json={"exclusion": True})
    assert reset.status_code == 200
    record = admin.user(user["_id"])
    assert record["totp_enabled"] is False
    assert record["mfaEnrollment"]["totpStatus"] == "IN_ENROLLMENT"

    clock.advance(30)
    again = PortalUser(emulator, user["email"])
    # No key any more: the password alone signs in, straight to the forced setup.
    assert again.login(otp=code_for(old, clock.now())).json() == {
        "redirectTo": "/userconsole/mfa/setup"
    }
    new = again.setup_totp()
    assert new.secret != old.secret
    refused = again.verify(code_for(old, clock.now()))
    assert refused.status_code == 401
    assert again.verify(code_for(new, clock.now())).status_code == 200

    clock.advance(30)
    assert (
        PortalUser(emulator, user["email"]).login(otp=code_for(old, clock.now())).status_code == 401
    )
    assert (
        PortalUser(emulator, user["email"]).login(otp=code_for(new, clock.now())).status_code == 200
    )


def test_the_key_is_never_returned_after_enrollment(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = admin.create_user("hygiene01", password=PASSWORD, firstname="Hy")
    browser = PortalUser(emulator, user["email"])
    browser.login()
    uri = browser.setup_totp()
    assert browser.verify(code_for(uri, clock.now())).status_code == 200
    key = uri.secret.reveal()
    forms = {encode_base32(key), encode_base32(key).lower(), key.hex(), key.hex().upper()}

    answers = [
        admin.call("GET", f"/api/systemusers/{user['_id']}"),
        admin.call("GET", "/api/systemusers"),
        admin.call("POST", "/api/search/systemusers", json={"filter": [{"totp_enabled": True}]}),
        admin.call("GET", f"/api/systemusers/{user['_id']}/totpinfo"),
        admin.call("GET", "/__emulator__/outbox"),
        browser.get("/userconsole/api/self"),
        browser.get("/userconsole/api/mfa"),
        browser.get("/userconsole/"),
        browser.get("/userconsole/security"),
        browser.get("/userconsole/mfa/totp/qr"),
        browser.get("/userconsole/api/mfa/totp/qr.png"),
        browser.post("/userconsole/api/mfa/totp/setup"),
    ]
    for answer in answers:
        text = answer.text
        leaked = [form for form in forms if form in text]
        assert not leaked, f"{answer.request.method} {answer.url} returned the TOTP key"
    assert answers[0].json()["totp_enabled"] is True
    assert "totp" in json.dumps(answers[6].json())
