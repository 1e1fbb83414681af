"""Portal login hardening: a new session id and XSRF token at login (a cookie planted before
it stays anonymous), one answer for any password on a locked account, failed logins throttled
per email, and an email held in two orgs resolved by ``orgId``, never by lookup order."""

from __future__ import annotations

import requests
from portal_support import PASSWORD, Admin, PortalUser, code_for

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.portal_state import (
    SESSION_COOKIE,
    THROTTLE_FAILURES,
    THROTTLE_SECONDS,
)
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS

MSG_LOCKED = "Your account is locked. Contact your administrator."


def test_login_rotates_the_session_id_and_the_xsrf_token(emulator: Emulator, admin: Admin) -> None:
    user = admin.create_user("rotate01", password=PASSWORD)
    victim = PortalUser(emulator, user["email"])
    planted_xsrf = victim.xsrf()  # an attacker hands this anonymous session to the victim
    planted = victim.http.cookies[SESSION_COOKIE]

    assert victim.login().status_code == 200
    fresh = victim.http.cookies[SESSION_COOKIE]
    assert fresh != planted
    assert victim.get("/userconsole/api/self").status_code == 200
    assert victim.xsrf() != planted_xsrf

    attacker = requests.Session()
    attacker.cookies.set(SESSION_COOKIE, planted)
    assert attacker.get(emulator.url + "/userconsole/api/self", timeout=5).status_code == 401
    # The old token is dead too: a POST with it and the new cookie is refused.
    stale = victim.http.post(
        emulator.url + "/userconsole/logout", json={}, headers={"X-Xsrftoken": planted_xsrf}
    )
    assert stale.status_code == 403


def test_the_totp_step_rotates_the_session_again(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = admin.create_user("rotate02", password=PASSWORD)
    owner = PortalUser(emulator, user["email"])
    owner.login()
    uri = owner.setup_totp()
    assert owner.verify(code_for(uri, clock.now())).status_code == 200
    clock.advance(30)

    browser = PortalUser(emulator, user["email"])
    assert browser.login().status_code == 401  # the code is owed
    pending = browser.http.cookies[SESSION_COOKIE]
    done = browser.post("/userconsole/auth/totp", {"otp": code_for(uri, clock.now())})
    assert done.status_code == 200, done.text
    assert browser.http.cookies[SESSION_COOKIE] != pending
    replay = requests.Session()
    replay.cookies.set(SESSION_COOKIE, pending)
    assert replay.get(emulator.url + "/userconsole/api/self", timeout=5).status_code == 401


def _lock_with_wrong_passwords(emulator: Emulator, admin: Admin, name: str) -> dict[str, str]:
    user = admin.create_user(name, password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    for _ in range(5):  # passwordPolicy.maxLoginAttempts defaults to 5
        browser.login(password="Wrong-passw0rd")
    assert admin.user(user["_id"])["account_locked"] is True
    return user


def test_a_locked_account_answers_the_same_for_right_and_wrong_passwords(
    emulator: Emulator, admin: Admin
) -> None:
    user = _lock_with_wrong_passwords(emulator, admin, "locked01")
    right = PortalUser(emulator, user["email"]).login()
    wrong = PortalUser(emulator, user["email"]).login(password="Other-passw0rd")
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    assert right.json() == {"message": MSG_LOCKED}
    # Guesses on a locked account are not counted as bad passwords any more.
    assert admin.user(user["_id"])["badLoginAttempts"] == 5


def test_failed_logins_are_throttled_per_email(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    user = _lock_with_wrong_passwords(emulator, admin, "locked02")
    guesser = PortalUser(emulator, user["email"])
    statuses = [guesser.login(password=f"Guess-{i:04d}x").status_code for i in range(200)]
    allowed = THROTTLE_FAILURES - 5  # the five that locked the account count too
    assert statuses[:allowed] == [401] * allowed
    assert set(statuses[allowed:]) == {429}
    throttled = guesser.login()
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= THROTTLE_SECONDS
    # Even the right password is not looked at while throttled; other emails are not held up.
    other = admin.create_user("free01", password=PASSWORD)
    assert PortalUser(emulator, other["email"]).login().status_code == 200
    # An unknown email is throttled the same way (no way to tell it from a real one).
    ghost = PortalUser(emulator, "nobody@example.test")
    ghost_statuses = {ghost.login().status_code for _ in range(THROTTLE_FAILURES + 1)}
    assert ghost_statuses == {401, 429}

    clock.advance(THROTTLE_SECONDS + 1)
    admin.call("POST", f"/api/systemusers/{user['_id']}/unlock")
    assert guesser.login().status_code == 200


def test_the_same_email_in_two_orgs_logs_in_by_org_id(emulator: Emulator, admin: Admin) -> None:
    second_key = "second-org-api-key"
    made = requests.post(
        emulator.url + "/__emulator__/orgs",
        json={"name": "Second", "api_key": second_key},
        headers=CONTROL_HEADERS,
        timeout=5,
    )
    assert made.status_code == 201, made.text
    second_org = made.json()["id"]
    first = admin.create_user("twin", password=PASSWORD)
    second = requests.post(
        emulator.url + "/api/systemusers",
        json={"username": "twin", "email": "twin@example.test", "password": "Second-Passw0rd"},
        headers={"x-api-key": second_key},
        timeout=5,
    ).json()
    email = first["email"]

    ambiguous = PortalUser(emulator, email).login()
    assert ambiguous.status_code == 409
    assert "orgId" in ambiguous.json()["message"]

    for org_id, password, expected in (
        (emulator.org.id, PASSWORD, first["_id"]),
        (second_org, "Second-Passw0rd", second["_id"]),
    ):
        browser = PortalUser(emulator, email, password)
        answer = browser.post(
            "/userconsole/auth", {"email": email, "password": password, "orgId": org_id}
        )
        assert answer.status_code == 200, answer.text
        assert browser.get("/userconsole/api/self").json()["_id"] == expected
    # One org's password does not open the other org's account.
    crossed = PortalUser(emulator, email).post(
        "/userconsole/auth", {"email": email, "password": PASSWORD, "orgId": second_org}
    )
    assert crossed.json() == {"message": "Authentication failed."}
    # An email held in one org only needs no orgId.
    solo = admin.create_user("solo01", password=PASSWORD)
    assert PortalUser(emulator, solo["email"]).login().status_code == 200
