"""Bad input to every portal endpoint is refused (4xx, or a redirect for a page), never a 500,
and the emulator keeps serving."""

from __future__ import annotations

import pytest
from portal_support import PASSWORD, Admin, PortalUser

from tokenrig.harness.jumpcloud.emulator import Emulator

POSTS = [
    "/userconsole/auth",
    "/userconsole/auth/totp",
    "/userconsole/logout",
    "/userconsole/api/mfa/later",
    "/userconsole/api/mfa/totp/setup",
    "/userconsole/api/mfa/totp/verify",
    "/userconsole/mfa/later",
    "/userconsole/mfa/totp/start",
    "/userconsole/mfa/totp/verify",
    "/activate",
]
TAKE_NO_BODY = {"/userconsole/logout", "/userconsole/api/mfa/totp/setup"}
"""JSON calls that read no body (a form logout still needs its ``_xsrf`` field)."""
BODIES: list[tuple[bytes, str]] = [
    (b"{not json", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'{"otp": 123456, "email": null, "password": ["x"], "token": {}}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    (b"otp=%ZZ&_xsrf=&token=%00%01", "application/x-www-form-urlencoded"),
    (b'{"otp": "' + b"9" * 100_000 + b'"}', "application/json"),
]


@pytest.mark.parametrize("path", POSTS)
def test_bad_bodies_never_500(emulator: Emulator, admin: Admin, path: str) -> None:
    admin.create_user("badinput01", password=PASSWORD)
    user = PortalUser(emulator, "badinput01@example.test")
    user.login()
    token = user.xsrf()
    for body, content_type in BODIES:
        for headers in ({"X-Xsrftoken": token}, {}):
            answer = user.http.post(
                emulator.url + path,
                data=body,
                headers={"Content-Type": content_type, **headers},
                timeout=10,
                allow_redirects=False,
            )
            assert answer.status_code < 500, (path, body[:40], answer.status_code)
            if path not in TAKE_NO_BODY:
                assert answer.status_code >= 300, (path, body[:40], answer.status_code)
    assert user.get("/userconsole/api/self").status_code in (200, 401)


def test_bad_query_strings(emulator: Emulator) -> None:
    user = PortalUser(emulator, "nobody@example.test")
    for query in ("", "?token=", "?token=%ZZ", "?token=" + "a" * 5000, "?token=x&token=y"):
        answer = user.get("/activate" + query)
        assert answer.status_code == 410, query
    assert user.get("/userconsole/api/mfa/totp/qr.png").status_code == 401
    assert user.get("/login").status_code == 200
    assert user.get("/").url.endswith("/login")
