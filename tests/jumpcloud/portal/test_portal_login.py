"""The login calls as third-party JumpCloud clients use them (xsrf, auth, auth/totp), session
cookies, refusals that say nothing about why, and the pages a signed-out browser gets."""

from __future__ import annotations

import re

import requests
from portal_support import PASSWORD, Admin, PortalUser, text_of

from tokenrig.harness.jumpcloud.emulator import Emulator

FAILED = {"message": "Authentication failed."}


def test_xsrf_token_and_cookie(emulator: Emulator) -> None:
    http = requests.Session()
    first = http.get(emulator.url + "/userconsole/xsrf")
    assert first.status_code == 200
    assert set(first.json()) == {"xsrf"}
    assert "_jumpcloud_user_console_" in http.cookies
    # The same session keeps its token (the login page asks before each POST).
    assert http.get(emulator.url + "/userconsole/xsrf").json() == first.json()
    body = {"email": "nobody@example.test", "password": "x"}
    assert http.post(emulator.url + "/userconsole/auth", json=body).status_code == 403
    wrong = http.post(emulator.url + "/userconsole/auth", json=body, headers={"X-Xsrftoken": "no"})
    assert wrong.status_code == 403
    other = requests.post(
        emulator.url + "/userconsole/auth",
        json=body,
        headers={"X-Xsrftoken": first.json()["xsrf"]},
        timeout=10,
    )
    assert other.status_code == 403  # a token is only good with its own session cookie


def test_refusals_are_all_alike(emulator: Emulator, admin: Admin) -> None:
    admin.create_user("login01", password=PASSWORD)
    admin.create_user("login02", state="STAGED")  # no password yet
    admin.create_user("login03", password=PASSWORD, state="SUSPENDED", suspended=True)
    cases = [
        ("login01@example.test", "Wrong-passw0rd"),
        ("unknown@example.test", PASSWORD),
        ("login02@example.test", PASSWORD),
        ("login03@example.test", PASSWORD),
    ]
    for email, password in cases:
        answer = PortalUser(emulator, email, password).login()
        assert answer.status_code == 401, email
        assert answer.json() == FAILED, email
    assert PortalUser(emulator, "LOGIN01@example.test").login().status_code == 200


def test_bad_bodies_are_4xx(emulator: Emulator) -> None:
    user = PortalUser(emulator, "x@example.test")
    token = user.xsrf()
    url = emulator.url + "/userconsole/auth"
    for body in (b"{not json", b"[1, 2]", b'{"email": 5, "password": "x"}'):
        answer = user.http.post(
            url, data=body, headers={"X-Xsrftoken": token, "Content-Type": "application/json"}
        )
        assert answer.status_code == 400, body
        assert "message" in answer.json()
    assert user.post("/userconsole/auth/totp", {"otp": "123456"}).json() == FAILED


def test_logout_and_signed_out_pages(emulator: Emulator, admin: Admin) -> None:
    admin.create_user("login04", password=PASSWORD, firstname="<script>alert(1)</script>")
    browser = PortalUser(emulator, "login04@example.test")
    assert browser.get("/userconsole/").url.endswith("/login")
    assert browser.get("/userconsole/api/self").status_code == 401
    browser.login()
    home = browser.get("/userconsole/")
    assert "<script>alert(1)</script>" not in home.text
    assert text_of(home.text, "home-title") == "Welcome, &lt;script&gt;alert(1)&lt;/script&gt;"
    assert browser.get("/login").url.endswith("/userconsole/")
    out = browser.form("/userconsole/logout")
    assert out.url.endswith("/login")
    assert browser.get("/userconsole/api/self").status_code == 401


def test_pages_load_nothing_from_outside(emulator: Emulator, admin: Admin) -> None:
    admin.create_user(
        "login05",
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": 7},
    )
    browser = PortalUser(emulator, "login05@example.test")
    pages = [browser.get("/login").text]
    browser.login()
    for path in ("/userconsole/mfa/setup", "/userconsole/mfa/totp", "/userconsole/security"):
        pages.append(browser.get(path).text)
    browser.form("/userconsole/mfa/totp/start")
    pages += [
        browser.get(p).text for p in ("/userconsole/mfa/totp/qr", "/userconsole/mfa/totp/verify")
    ]
    for html in pages:
        assert html.startswith("<!DOCTYPE html>")
        assert not re.search(r'(src|href|action)="(https?:)?//', html)
