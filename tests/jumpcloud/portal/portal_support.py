"""Helpers of the user-portal suites: an admin talking to the emulator's console API and a
portal user speaking the portal's JSON calls and forms, both over HTTP with ``requests`` (the
admin with the API key, the user with cookies), the way the harness and a browser reach the
real service.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import zxingcpp
from PIL import Image

from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS
from tokenrig.harness.otp.hotp import totp
from tokenrig.harness.otp.uri import OtpUri, parse_uri

API_KEY = "portal-suite-api-key"
PASSWORD = "Tokenrig-Passw0rd"
START = 1_767_225_605.0
"""2026-01-01T00:00:05Z: 5 s into a TOTP step, so a test's codes never straddle a boundary."""


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in a PNG (zxing-cpp, as a phone camera would read it)."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return str(found[0].text)


def code_for(uri: OtpUri, at: float) -> str:
    """The code an authenticator that scanned ``uri`` shows at ``at`` (tokenrig.harness.otp)."""
    return totp(uri.secret.reveal(), at, period=uri.period, digits=uri.digits)


class Admin:
    """The harness side: console API calls with the API key, plus emulator controls."""

    def __init__(self, emulator: Emulator) -> None:
        self.url = emulator.url
        self.http = requests.Session()
        self.http.headers.update(
            {"x-api-key": API_KEY, "Accept": "application/json", **CONTROL_HEADERS}
        )

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.http.request(method, self.url + path, timeout=10, **kwargs)
        assert response.status_code < 500, response.text
        return response

    def create_user(self, name: str, **fields: Any) -> dict[str, Any]:
        body = {"username": name, "email": f"{name}@example.test", "firstname": "Tess", **fields}
        response = self.call("POST", "/api/systemusers", json=body)
        assert response.status_code == 200, response.text
        user: dict[str, Any] = response.json()
        return user

    def user(self, user_id: str) -> dict[str, Any]:
        response = self.call("GET", f"/api/systemusers/{user_id}")
        assert response.status_code == 200, response.text
        user: dict[str, Any] = response.json()
        return user

    def outbox(self, to: str | None = None) -> list[dict[str, Any]]:
        response = self.call("GET", "/__emulator__/outbox")
        assert response.status_code == 200, response.text
        body = response.json()
        mails: list[dict[str, Any]] = body["messages"] if isinstance(body, dict) else body
        return [m for m in mails if to is None or m["to"] == to]

    def last_mail(self, to: str | None, kind: str, user_id: str | None = None) -> dict[str, Any]:
        mails = [
            m
            for m in self.outbox(to)
            if m["kind"] == kind and (user_id is None or m["user_id"] == user_id)
        ]
        assert mails, f"no {kind} mail to {to}; outbox: {[m['subject'] for m in self.outbox()]}"
        return mails[-1]

    def staged_then_activated(self, name: str, **fields: Any) -> tuple[dict[str, Any], str]:
        """A STAGED user (no password) activated by the admin: returns the user and the
        activation link from the mail it got."""
        user = self.create_user(name, state="STAGED", **fields)
        response = self.call("POST", f"/api/systemusers/{user['_id']}/state/activate", json={})
        assert response.status_code == 200, response.text
        mail = self.last_mail(None, "activation", user["_id"])
        (link,) = mail["links"]
        return user, link

    def advance(self, seconds: float) -> None:
        response = self.call("POST", "/__emulator__/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text


class PortalUser:
    """A user's browser session, driven through the portal's JSON calls."""

    def __init__(self, emulator: Emulator, email: str, password: str = PASSWORD) -> None:
        self.url = emulator.url
        self.email = email
        self.password = password
        self.http = requests.Session()
        self.http.headers["Accept"] = "application/json"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=10, **kwargs)

    def xsrf(self) -> str:
        response = self.get("/userconsole/xsrf")
        assert response.status_code == 200, response.text
        token: str = response.json()["xsrf"]
        return token

    def post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        headers = {"X-Xsrftoken": self.xsrf()}
        return self.http.post(self.url + path, json=body or {}, headers=headers, timeout=10)

    def form(self, path: str, fields: dict[str, str] | None = None) -> requests.Response:
        """Submit a page's form like a browser: urlencoded, with the page's ``_xsrf`` field."""
        data = {"_xsrf": self.xsrf(), **(fields or {})}
        headers = {"Accept": "text/html"}
        return self.http.post(self.url + path, data=data, headers=headers, timeout=10)

    def login(self, otp: str | None = None, password: str | None = None) -> requests.Response:
        body = {"email": self.email, "password": password or self.password}
        if otp is not None:
            body["otp"] = otp
        return self.post("/userconsole/auth", body)

    def activate(self, link: str, password: str | None = None) -> requests.Response:
        token = parse_qs(urlsplit(link).query)["token"][0]
        fields = {"token": token, "password": password or self.password}
        fields["confirm"] = fields["password"]
        return self.http.post(self.url + "/activate", data=fields, timeout=10)

    def setup_totp(self) -> OtpUri:
        """Voluntary or forced enrollment up to the QR code: returns what a phone scans."""
        response = self.post("/userconsole/api/mfa/totp/setup")
        assert response.status_code == 200, response.text
        png = self.get(response.json()["qrCode"])
        assert png.status_code == 200, png.text
        assert png.headers["Content-Type"] == "image/png"
        return parse_uri(decode_qr(png.content))

    def verify(self, code: str) -> requests.Response:
        return self.post("/userconsole/api/mfa/totp/verify", {"otp": code})


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with ``id`` (first match, tags stripped)."""
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', html, re.S)
    assert found, f"no element #{element_id} in the page"
    return re.sub(r"\s+", " ", found.group(1)).strip()
