"""The end of the enrollment grace period on the virtual clock: a reminder mail 24 hours
before it, ``account_locked`` once it is over (the lockout time does not lift it), and the
console's ``unlock`` letting the user back in to set up the authenticator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal_support import PASSWORD, Admin, PortalUser, code_for

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator

DAY = 86_400
MSG_EXPIRED = "enrollment period has expired"


def _required_user(admin: Admin, name: str, days: int) -> dict[str, Any]:
    return admin.create_user(
        name,
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": days},
    )


def _stamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def _reminders(admin: Admin, user: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in admin.outbox(user["email"]) if m["kind"] == "mfa_reminder"]


def test_grace_expiry_locks_the_account_and_unlock_lets_the_user_enroll(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = _required_user(admin, "expiry10", days=2)
    until = _stamp(admin.user(user["_id"])["mfa"]["exclusionUntil"])
    clock.advance(2 * DAY - 1)
    assert admin.user(user["_id"])["account_locked"] is False

    clock.advance(1)
    record = admin.user(user["_id"])
    assert record["account_locked"] is True
    assert _stamp(record["account_locked_date"]) == until
    assert record["mfaEnrollment"]["totpStatus"] == "ENROLLMENT_EXPIRED"
    right = PortalUser(emulator, user["email"]).login()
    wrong = PortalUser(emulator, user["email"]).login(password="Wrong-passw0rd")
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    assert MSG_EXPIRED in right.json()["message"]

    clock.advance(3600)  # far past the org's lockoutTimeInSeconds (600): still locked
    assert admin.user(user["_id"])["account_locked"] is True
    assert PortalUser(emulator, user["email"]).login().status_code == 401

    assert admin.call("POST", f"/api/systemusers/{user['_id']}/unlock").status_code == 200
    record = admin.user(user["_id"])
    assert record["account_locked"] is False
    assert record["mfaEnrollment"]["totpStatus"] == "IN_ENROLLMENT"
    assert _stamp(record["mfa"]["exclusionUntil"]) == clock.now() + 2 * DAY  # a new period
    browser = PortalUser(emulator, user["email"])
    back = browser.login()
    assert back.status_code == 200, back.text
    assert back.json() == {"redirectTo": "/userconsole/mfa/setup"}
    uri = browser.setup_totp()
    assert browser.verify(code_for(uri, clock.now())).status_code == 200
    clock.advance(3 * DAY)
    assert admin.user(user["_id"])["account_locked"] is False  # enrolled: no deadline any more


def test_a_reminder_mail_goes_out_24_hours_before_the_period_ends(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = _required_user(admin, "remind01", days=3)
    until = _stamp(admin.user(user["_id"])["mfa"]["exclusionUntil"])
    clock.advance(2 * DAY - 1)
    assert _reminders(admin, user) == []
    clock.advance(1)
    (reminder,) = _reminders(admin, user)
    assert _stamp(reminder["sent_at"]) == until - DAY
    assert reminder["links"] == [emulator.url + "/login"]
    assert "24 hours" in reminder["body"]
    assert PASSWORD not in reminder["body"]
    clock.advance(DAY / 2)
    assert len(_reminders(admin, user)) == 1  # one per deadline
    # A user who has enrolled gets none.
    enrolled = _required_user(admin, "remind02", days=3)
    browser = PortalUser(emulator, enrolled["email"])
    browser.login()
    uri = browser.setup_totp()
    assert browser.verify(code_for(uri, clock.now())).status_code == 200
    clock.advance(4 * DAY)
    assert _reminders(admin, enrolled) == []


def test_a_clock_jump_past_the_deadline_still_sends_the_reminder_first(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = _required_user(admin, "remind03", days=2)
    until = _stamp(admin.user(user["_id"])["mfa"]["exclusionUntil"])
    admin.advance(10 * DAY)  # the control moves the clock; what fell due happens at once
    (reminder,) = _reminders(admin, user)
    assert _stamp(reminder["sent_at"]) == until - DAY
    assert admin.user(user["_id"])["account_locked"] is True
