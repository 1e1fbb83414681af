"""Lock-out: too many wrong TOTP codes (at enrollment or at login) or wrong passwords lock
the account; the console's unlock, or the org's lockout time on the virtual clock, lifts it."""

from __future__ import annotations

from portal_support import PASSWORD, Admin, PortalUser, code_for

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.otp.uri import OtpUri

MSG_LOCKED = "Your account is locked. Contact your administrator."


def _org_limit(emulator: Emulator, admin: Admin, attempts: int) -> None:
    """Set the org's ``passwordPolicy.maxLoginAttempts``, which TOTP codes follow too."""
    answer = admin.call(
        "PUT",
        f"/api/organizations/{emulator.org.id}",
        json={"settings": {"passwordPolicy": {"maxLoginAttempts": attempts}}},
    )
    assert answer.status_code == 200, answer.text


def _wrong(uri: OtpUri, at: float) -> str:
    """A well-formed code that is not valid in the ±1 window around ``at``."""
    valid = {code_for(uri, at + step * 30) for step in (-1, 0, 1)}
    return next(c for c in ("123456", "654321", "000000", "999999") if c not in valid)


def test_wrong_codes_at_enrollment_lock_the_account(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = admin.create_user("lockcode01", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    uri = browser.setup_totp()
    wrong = _wrong(uri, clock.now())
    for remaining in (4, 3, 2, 1):
        answer = browser.verify(wrong)
        assert answer.status_code == 401
        assert answer.json()["attemptsRemaining"] == remaining
    fifth = browser.verify(wrong)
    assert fifth.status_code == 403
    assert fifth.json() == {"message": MSG_LOCKED}

    record = admin.user(user["_id"])
    assert record["account_locked"] is True
    assert record["totp_enabled"] is False
    # The session is over, and even the right password (and code) does not get back in.
    assert browser.get("/userconsole/api/self").status_code == 401
    relogin = PortalUser(emulator, user["email"]).login()
    assert relogin.status_code == 401
    assert relogin.json() == {"message": MSG_LOCKED}

    assert admin.call("POST", f"/api/systemusers/{user['_id']}/unlock").status_code == 200
    again = PortalUser(emulator, user["email"])
    assert again.login().status_code == 200
    # The old QR code died with the lock: verifying needs a new setup.
    assert again.verify(code_for(uri, clock.now())).status_code == 409
    fresh = again.setup_totp()
    assert fresh.secret != uri.secret
    assert again.verify(code_for(fresh, clock.now())).status_code == 200


def test_wrong_codes_at_login_lock_and_the_lockout_time_lifts_it(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    _org_limit(emulator, admin, 3)
    user = admin.create_user("lockcode02", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    uri = browser.setup_totp()
    assert browser.verify(code_for(uri, clock.now())).status_code == 200

    clock.advance(30)
    wrong = _wrong(uri, clock.now())
    intruder = PortalUser(emulator, user["email"])
    assert intruder.login().status_code == 401  # MFA required
    assert intruder.post("/userconsole/auth/totp", {"otp": wrong}).status_code == 401
    assert intruder.login(otp=wrong).json()["message"] == "MFA required."
    third = intruder.login(otp=wrong)
    assert third.json() == {"message": MSG_LOCKED}
    assert admin.user(user["_id"])["account_locked"] is True
    assert PortalUser(emulator, user["email"]).login(otp=code_for(uri, clock.now())).json() == {
        "message": MSG_LOCKED
    }

    clock.advance(600)  # the org's default lockoutTimeInSeconds
    owner = PortalUser(emulator, user["email"])
    ok = owner.login(otp=code_for(uri, clock.now()))
    assert ok.status_code == 200, ok.text
    assert admin.user(user["_id"])["account_locked"] is False


def test_wrong_passwords_lock_after_the_org_limit(emulator: Emulator, admin: Admin) -> None:
    user = admin.create_user("lockpass01", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    for _ in range(5):  # passwordPolicy.maxLoginAttempts defaults to 5
        answer = browser.login(password="Wrong-passw0rd")
        assert answer.json() == {"message": "Authentication failed."}
    assert admin.user(user["_id"])["account_locked"] is True
    assert browser.login().json() == {"message": MSG_LOCKED}
    admin.call("POST", f"/api/systemusers/{user['_id']}/unlock")
    assert browser.login().status_code == 200


def test_logging_in_again_does_not_reset_wrong_enrollment_codes(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    _org_limit(emulator, admin, 2)
    user = admin.create_user("lockcode03", password=PASSWORD)
    first = PortalUser(emulator, user["email"])
    first.login()
    uri = first.setup_totp()
    assert first.verify(_wrong(uri, clock.now())).json()["attemptsRemaining"] == 1
    second = PortalUser(emulator, user["email"])
    assert second.login().status_code == 200
    uri = second.setup_totp()
    assert second.verify(_wrong(uri, clock.now())).status_code == 403
    assert admin.user(user["_id"])["account_locked"] is True


def test_the_code_limit_follows_the_orgs_max_login_attempts(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    _org_limit(emulator, admin, 3)
    admin.call("PUT", "/__emulator__/portal", json={"max_failed_codes": 9})  # not used now
    user = admin.create_user("lockcode04", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    uri = browser.setup_totp()
    wrong = _wrong(uri, clock.now())
    assert [browser.verify(wrong).json().get("attemptsRemaining") for _ in range(2)] == [2, 1]
    assert browser.verify(wrong).status_code == 403
    assert admin.user(user["_id"])["account_locked"] is True


def test_with_the_orgs_limit_off_the_portal_policy_limits_codes(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    off = admin.call(
        "PUT",
        f"/api/organizations/{emulator.org.id}",
        json={"settings": {"passwordPolicy": {"enableMaxLoginAttempts": False}}},
    )
    assert off.status_code == 200, off.text
    admin.call("PUT", "/__emulator__/portal", json={"max_failed_codes": 2})
    user = admin.create_user("lockcode05", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    uri = browser.setup_totp()
    wrong = _wrong(uri, clock.now())
    assert browser.verify(wrong).json()["attemptsRemaining"] == 1
    assert browser.verify(wrong).status_code == 403
