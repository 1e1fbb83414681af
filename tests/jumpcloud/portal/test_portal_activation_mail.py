"""Mail and activation: the activation mail's link opens the set-password page, the password
activates the user, a used or expired link is refused with JumpCloud's wording; welcome,
password-reset and "MFA Now Enabled" mails carry working links and no secrets."""

from __future__ import annotations

from urllib.parse import urlsplit

from portal_support import PASSWORD, Admin, PortalUser, text_of

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator

USED_OR_EXPIRED = "Activation code has either already been used or has expired."


def test_activation_mail_link_sets_the_password(emulator: Emulator, admin: Admin) -> None:
    user, link = admin.staged_then_activated("mail01", alternateEmail="alt01@example.test")
    mail = admin.last_mail("alt01@example.test", "activation")  # no password: alternateEmail
    assert mail["subject"] == "Activate your JumpCloud account"
    assert link in mail["body"]
    assert urlsplit(link).path == "/activate"
    assert link.startswith(emulator.url)

    browser = PortalUser(emulator, user["email"])
    form = browser.get(link.removeprefix(emulator.url))
    assert text_of(form.text, "activate-email") == user["email"]
    assert 'id="new-password"' in form.text
    assert 'id="confirm-password"' in form.text

    token = link.split("token=")[1]
    mismatch = browser.http.post(
        emulator.url + "/activate",
        data={"token": token, "password": PASSWORD, "confirm": PASSWORD + "x"},
    )
    assert mismatch.status_code == 400
    assert text_of(mismatch.text, "activate-error") == "Passwords do not match."
    weak = browser.http.post(
        emulator.url + "/activate", data={"token": token, "password": "short", "confirm": "short"}
    )
    assert weak.status_code == 400
    assert "at least 8 characters" in text_of(weak.text, "activate-error")
    assert admin.user(user["_id"])["activated"] is False

    done = browser.activate(link)
    assert done.status_code == 200
    assert text_of(done.text, "activated-title") == "Your password is set"
    assert admin.user(user["_id"])["activated"] is True
    assert browser.login().json() == {"redirectTo": "/userconsole/"}

    reused = browser.get(link.removeprefix(emulator.url))
    assert reused.status_code == 410
    assert text_of(reused.text, "message-text") == USED_OR_EXPIRED
    assert PASSWORD not in str(admin.outbox())


def test_activation_link_expires_after_seven_days(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user, link = admin.staged_then_activated("mail02")
    clock.advance(7 * 86_400)
    browser = PortalUser(emulator, user["email"])
    page = browser.get(link.removeprefix(emulator.url))
    assert page.status_code == 410
    assert text_of(page.text, "message-text") == USED_OR_EXPIRED
    assert browser.activate(link).status_code == 410
    assert admin.user(user["_id"])["activated"] is False


def test_activation_as_json_for_api_clients(emulator: Emulator, admin: Admin) -> None:
    user, link = admin.staged_then_activated("mail03")
    token = link.split("token=")[1]
    http = PortalUser(emulator, user["email"]).http
    bad = http.post(
        emulator.url + "/activate", json={"token": token, "password": "x", "confirm": "x"}
    )
    assert bad.status_code == 400
    assert "password policy" in bad.json()["message"]
    ok = http.post(
        emulator.url + "/activate", json={"token": token, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert ok.json() == {"activated": True, "redirectTo": "/login"}
    assert admin.user(user["_id"])["activated"] is True


def test_welcome_mail_for_a_user_with_a_password(emulator: Emulator, admin: Admin) -> None:
    user = admin.create_user("mail04", password=PASSWORD)
    mail = admin.last_mail(user["email"], "welcome")
    assert mail["subject"] == "Welcome to JumpCloud"
    (link,) = mail["links"]
    assert link == emulator.url + "/login"
    page = PortalUser(emulator, user["email"]).get("/login")
    assert text_of(page.text, "login-title") == "User Portal Login"
    assert PASSWORD not in mail["body"]


def test_password_reset_mail_for_an_active_user(emulator: Emulator, admin: Admin) -> None:
    user = admin.create_user("mail05", password=PASSWORD)
    sent = admin.call(
        "POST",
        "/api/systemusers/reactivate",
        json={"isSelectAll": False, "models": [{"_id": user["_id"]}]},
    )
    assert sent.status_code == 200
    mail = admin.last_mail(user["email"], "password_reset")
    (link,) = mail["links"]
    browser = PortalUser(emulator, user["email"], password="N3w-password!")
    page = browser.get(link.removeprefix(emulator.url))
    assert text_of(page.text, "activate-title") == "Reset Your Password"
    assert browser.activate(link).status_code == 200
    assert browser.login().status_code == 200
    assert PortalUser(emulator, user["email"]).login().status_code == 401  # old password


def test_mfa_enabled_mail_when_the_admin_requires_mfa(emulator: Emulator, admin: Admin) -> None:
    user = admin.create_user("mail06", password=PASSWORD)
    admin.call(
        "PUT",
        f"/api/systemusers/{user['_id']}",
        json={
            "enable_user_portal_multifactor": True,
            "mfa": {"exclusion": True, "exclusionUntil": "2026-01-08T00:00:00Z"},
        },
    )
    mail = admin.last_mail(user["email"], "mfa_enabled")
    assert mail["subject"] == "MFA Now Enabled on your JumpCloud Account"
    assert "2026-01-08T00:00:00.000Z" in mail["body"]
    assert "Set Up MFA" in mail["body"]
    (link,) = mail["links"]
    assert (
        PortalUser(emulator, user["email"]).get(link.removeprefix(emulator.url)).status_code == 200
    )
