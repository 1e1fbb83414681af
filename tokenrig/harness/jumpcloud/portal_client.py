"""The User Portal over its JSON calls, with ``requests``: what the browser's pages do, fast.

Same steps as :mod:`tokenrig.harness.jumpcloud.portal_driver` (activate, log in, owe a code, open
the
authenticator setup, fetch the QR code, verify the first code, read the Security status), and
the same result types, so the enrollment procedure runs unchanged over either. Cookies hold
the session; every POST echoes the XSRF token from ``GET /userconsole/xsrf``.

Only the login calls (``/userconsole/xsrf``, ``/userconsole/auth``, ``/auth/totp``) are seen
in real clients; the enrollment calls are the emulator's own (see docs/jumpcloud-portal.md),
so this client talks to the emulator, and to a real portal only for login.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tokenrig.harness.secrets import SecretText

TIMEOUT = 10.0
MSG_ENROLLED = "Authenticator App Enrollment Successful!"
_LOCKED_WORDS = ("locked",)
_EXPIRED_WORDS = ("enrollment period has expired",)


class PortalError(Exception):
    """The portal answered something a step did not expect; names the call and the status."""


class LoginOutcome(StrEnum):
    SIGNED_IN = "signed_in"  # at the portal's home page
    SETUP_REQUIRED = "setup_required"  # forced to "Set Up Multi-Factor Authentication"
    CODE_REQUIRED = "code_required"  # password accepted; a TOTP code is owed
    FAILED = "failed"  # wrong password or wrong code
    LOCKED = "locked"  # account locked
    ENROLLMENT_EXPIRED = "enrollment_expired"  # MFA required and the grace period is over


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    message: str = ""


class VerifyOutcome(StrEnum):
    ENROLLED = "enrolled"
    REJECTED = "rejected"
    LOCKED = "locked"


@dataclass(frozen=True)
class VerifyResult:
    outcome: VerifyOutcome
    message: str = ""


def classify_login_message(message: str) -> LoginOutcome:
    """The outcome a portal error message stands for (the browser only sees the text)."""
    lower = message.lower()
    if any(word in lower for word in _EXPIRED_WORDS):
        return LoginOutcome.ENROLLMENT_EXPIRED
    if any(word in lower for word in _LOCKED_WORDS):
        return LoginOutcome.LOCKED
    return LoginOutcome.FAILED


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", "")) if isinstance(body, dict) else ""


class PortalClient:
    """One portal user's session (cookies) against ``base_url``; ``close()`` when done."""

    kind = "api"

    def __init__(self, base_url: str, *, timeout: float = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.update({"Accept": "application/json"})

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def __repr__(self) -> str:
        return f"PortalClient({self.base_url})"

    # -- plumbing ---------------------------------------------------------------------------------
    def _xsrf(self) -> str:
        response = self.http.get(f"{self.base_url}/userconsole/xsrf", timeout=self.timeout)
        if response.status_code != 200:
            raise PortalError(f"GET /userconsole/xsrf: HTTP {response.status_code}")
        return str(response.json()["xsrf"])

    def _post(self, path: str, body: dict[str, Any]) -> requests.Response:
        headers = {"X-Xsrftoken": self._xsrf(), "Content-Type": "application/json"}
        return self.http.post(
            f"{self.base_url}{path}", json=body, headers=headers, timeout=self.timeout
        )

    def _get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.base_url}{path}", timeout=self.timeout)

    def _json(self, path: str) -> dict[str, Any]:
        response = self._get(path)
        if response.status_code != 200:
            raise PortalError(f"GET {path}: HTTP {response.status_code}: {_message(response)}")
        data = response.json()
        if not isinstance(data, dict):
            raise PortalError(f"GET {path}: expected a JSON object")
        return data

    # -- activation and login ---------------------------------------------------------------------
    def activate(self, link: str, password: SecretText) -> None:
        """Follow the activation mail's link and set the password."""
        parts = urlsplit(link)
        token = parse_qs(parts.query).get("token", [""])[-1]
        if parts.path != "/activate" or not token:
            raise PortalError("activation link has no /activate?token=... (is it the right mail?)")
        secret = password.reveal()
        response = self.http.post(
            f"{self.base_url}/activate",
            json={"token": token, "password": secret, "confirm": secret},
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise PortalError(f"POST /activate: HTTP {response.status_code}: {_message(response)}")

    def login(self, email: str, password: SecretText) -> LoginResult:
        response = self._post("/userconsole/auth", {"email": email, "password": password.reveal()})
        return self._login_result(response)

    def submit_login_code(self, code: str) -> LoginResult:
        return self._login_result(self._post("/userconsole/auth/totp", {"otp": code}))

    def _login_result(self, response: requests.Response) -> LoginResult:
        body = response.json() if response.content else {}
        if response.status_code == 200:
            target = str(body.get("redirectTo", ""))
            if target.startswith("/userconsole/mfa/setup"):
                return LoginResult(LoginOutcome.SETUP_REQUIRED)
            return LoginResult(LoginOutcome.SIGNED_IN)
        message = str(body.get("message", ""))
        if response.status_code == 401 and body.get("factors"):
            return LoginResult(LoginOutcome.CODE_REQUIRED, message)
        return LoginResult(classify_login_message(message), message)

    def logout(self) -> None:
        response = self._post("/userconsole/logout", {})
        if response.status_code != 200:
            raise PortalError(f"POST /userconsole/logout: HTTP {response.status_code}")

    # -- authenticator app ------------------------------------------------------------------------
    def mfa_state(self) -> dict[str, Any]:
        """The signed-in user's MFA state (``/userconsole/api/mfa``)."""
        return self._json("/userconsole/api/mfa")

    def open_totp_setup(self, *, forced: bool) -> bytes:
        """ "Authenticator App" → "I Have the App"; returns the QR code PNG shown next.

        ``forced``: arrived through "Set Up Multi-Factor Authentication" (MFA required), else
        from Security → "Set Up Authenticator App"; the portal's gate must agree.
        """
        gate = str(self.mfa_state().get("gate"))
        if forced and gate != "grace":
            raise PortalError(f"expected the forced MFA setup, but the portal's gate is {gate!r}")
        if not forced and gate == "grace":
            raise PortalError("expected a voluntary setup, but the portal forces MFA setup")
        response = self._post("/userconsole/api/mfa/totp/setup", {})
        if response.status_code != 200:
            raise PortalError(
                f"POST totp/setup (I Have the App): HTTP {response.status_code}: "
                f"{_message(response)}"
            )
        qr_path = str(response.json().get("qrCode", ""))
        qr = self._get(qr_path)
        if qr.status_code != 200 or qr.headers.get("content-type") != "image/png":
            raise PortalError(f"GET {qr_path}: HTTP {qr.status_code}, not a PNG")
        return qr.content

    def qr_png(self) -> bytes:
        """The QR code of the setup in progress (shown again, same key)."""
        qr = self._get("/userconsole/api/mfa/totp/qr.png")
        if qr.status_code != 200:
            raise PortalError(f"GET totp/qr.png: HTTP {qr.status_code}: {_message(qr)}")
        return qr.content

    def verify_totp(self, code: str) -> VerifyResult:
        """ "Verify Your Account": submit the first code from the token."""
        response = self._post("/userconsole/api/mfa/totp/verify", {"otp": code})
        message = _message(response)
        if response.status_code == 200:
            return VerifyResult(VerifyOutcome.ENROLLED, message)
        if response.status_code == 403:
            return VerifyResult(VerifyOutcome.LOCKED, message)
        if response.status_code == 401:
            return VerifyResult(VerifyOutcome.REJECTED, message)
        raise PortalError(f"POST totp/verify: HTTP {response.status_code}: {message}")

    def totp_active(self) -> bool:
        """What the Security page says: is the authenticator app active on the account?"""
        return bool(self.mfa_state().get("totpEnabled"))
