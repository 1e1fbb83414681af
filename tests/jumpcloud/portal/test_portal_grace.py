"""The admin's grace period: "Set Up Later" while days remain (the count going down with the
virtual clock), lock-out of the portal once it is over, and resetmfa starting a new one."""

from __future__ import annotations

from portal_support import PASSWORD, Admin, PortalUser, text_of

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator

DAY = 86_400


def _required_user(admin: Admin, name: str, days: int = 7) -> dict[str, object]:
    return admin.create_user(
        name,
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": days},
    )


def test_set_up_later_while_days_remain(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = _required_user(admin, "later01")
    browser = PortalUser(emulator, str(user["email"]))
    assert browser.login().json()["redirectTo"] == "/userconsole/mfa/setup"
    # Home is not reachable before a choice is made.
    assert browser.get("/userconsole/security").url.endswith("/userconsole/mfa/setup")
    home = browser.form("/userconsole/mfa/later")
    assert home.url.endswith("/userconsole/")
    assert text_of(home.text, "home-title") == "Welcome, Tess"
    assert "7 days remaining" in text_of(home.text, "days-remaining")

    clock.advance(3 * DAY)
    again = PortalUser(emulator, str(user["email"]))
    assert again.login().json()["redirectTo"] == "/userconsole/mfa/setup"
    setup = again.get("/userconsole/mfa/setup")
    assert "4 days remaining" in text_of(setup.text, "days-remaining")
    later = again.post("/userconsole/api/mfa/later")
    assert later.status_code == 200
    assert later.json() == {"redirectTo": "/userconsole/", "daysRemaining": 4}
    assert again.get("/userconsole/").url.endswith("/userconsole/")

    clock.advance(3 * DAY + 23 * 3600)  # one hour left: still "1 day"
    last = PortalUser(emulator, str(user["email"]))
    last.login()
    assert "1 day remaining" in text_of(last.get("/userconsole/mfa/setup").text, "days-remaining")
    assert admin.user(str(user["_id"]))["mfaEnrollment"]["totpStatus"] == "IN_ENROLLMENT"


def test_grace_expiry_locks_the_user_out_until_resetmfa(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = _required_user(admin, "expiry01", days=2)
    signed_in = PortalUser(emulator, str(user["email"]))
    signed_in.login()
    signed_in.post("/userconsole/api/mfa/later")

    clock.advance(2 * DAY)
    assert admin.user(str(user["_id"]))["mfaEnrollment"]["totpStatus"] == "ENROLLMENT_EXPIRED"
    refused = PortalUser(emulator, str(user["email"])).login()
    assert refused.status_code == 401
    assert "enrollment period has expired" in refused.json()["message"]
    # A session opened before the deadline is shut out too, pages and JSON alike.
    page = signed_in.get("/userconsole/")
    assert page.status_code == 403
    assert "enrollment period has expired" in text_of(page.text, "message-text")
    assert signed_in.get("/userconsole/api/self").status_code == 403
    assert signed_in.post("/userconsole/api/mfa/later").status_code == 403
    assert signed_in.post("/userconsole/api/mfa/totp/setup").status_code == 403

    reset = admin.call(
        "POST", f"/api/systemusers/{user['_id']}/resetmfa", json={"exclusionDays": 3}
    )
    assert reset.status_code == 200
    back = PortalUser(emulator, str(user["email"])).login()
    assert back.status_code == 200
    assert back.json() == {"redirectTo": "/userconsole/mfa/setup"}


def test_required_without_grace_period_is_locked_out(emulator: Emulator, admin: Admin) -> None:
    user = admin.create_user(
        "nograce01",
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": False},
    )
    response = PortalUser(emulator, user["email"]).login()
    assert response.status_code == 401
    assert "enrollment period has expired" in response.json()["message"]
