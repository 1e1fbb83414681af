"""How the emulated User Portal's pages read and are marked up: the wording of its buttons and
headings (JumpCloud's current one, or the older one its help pages still show) and whether
element ids are stable or renamed on every page.

Why a switch: JumpCloud changes the portal's wording without notice (help pages and the public
simulation show "Verify Your Identity" where older pages show "Set Up Multi-Factor
Authentication"), so the browser driver must read either. Rendering both lets the tests prove
it. Renaming ids proves the driver never leans on the emulator's own markup, which the real
portal does not share.

This table is the emulator's side; the driver has its own (``portal_wording.py``) so a test is
the driver reading what another piece of code wrote, not a table compared with itself. Texts
marked *emulator* are not documented by JumpCloud (see ``docs/jumpcloud-portal.md``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

WORDINGS = ("current", "older")
ID_MODES = ("stable", "random")

_SHARED = {
    "qr_title": "Scan the QR Code",  # emulator
    "next": "Continue",
    "verify_title": "Verify Your Account",
    "code_label": "Verification code",  # emulator
    "submit": "Submit",
    "success_title": "Authenticator App Enrollment Successful!",
    "done": "Done",
    "totp_active": "Authenticator App is active on your account.",
    "totp_missing": "Authenticator App is not set up.",  # emulator
    "later": "Set Up Later",
    "email_label": "Email",  # emulator
    "password_label": "Password",
    "login_button": "Log In",  # emulator
    "home_menu": "Home",  # emulator
    "logout": "Log Out",  # emulator
}

WORDING: dict[str, dict[str, str]] = {
    "current": {
        **_SHARED,
        "prompt_title": "Verify Your Identity",
        "prompt_next": "Continue",
        "methods_title": "Verify Your Identity",
        "method_app": "Set Up Authenticator App",
        "get_app_title": "Set Up Authenticator App",
        "have_app": "I Have the App",
        "security_menu": "Security",
        "security_title": "Security",
        "security_setup": "Set Up Authenticator App",
    },
    "older": {
        **_SHARED,
        "prompt_title": "Set Up Multi-Factor Authentication",
        "prompt_next": "Set up TOTP",
        "methods_title": "Set Up Multi-Factor Authentication",
        "method_app": "Set up TOTP",
        "get_app_title": "Set up Authentication App",
        "have_app": "I have an app",
        "security_menu": "Password",
        "security_title": "Password",
        "security_setup": "Set up Authentication App",
    },
}


@dataclass
class PortalLook:
    """``wording``: ``current`` or ``older``; ``ids``: ``stable`` (the ids in the docs) or
    ``random`` (every id renamed per page, ``data-testid`` dropped)."""

    wording: str = "current"
    ids: str = "stable"

    def validate(self) -> None:
        if self.wording not in WORDINGS:
            raise ValueError(f"wording must be one of {', '.join(WORDINGS)}, got {self.wording!r}")
        if self.ids not in ID_MODES:
            raise ValueError(f"ids must be one of {', '.join(ID_MODES)}, got {self.ids!r}")

    def to_json(self) -> dict[str, Any]:
        return {"wording": self.wording, "ids": self.ids}

    def words(self) -> dict[str, str]:
        return WORDING[self.wording]


_ID = re.compile(r'\bid="([^"]+)"')
_TESTID = re.compile(r'\sdata-testid="[^"]*"')
_REFS = re.compile(r'\b(for|aria-labelledby|aria-describedby|aria-controls)="([^"]+)"')


def rename_ids(html: str) -> str:
    """Every ``id`` renamed to a random one (and the ``for``/``aria-*`` that point at it), and
    every ``data-testid`` removed: the page means the same to a person or a screen reader,
    but nothing keyed on the emulator's ids finds anything."""
    names: dict[str, str] = {}
    for found in _ID.finditer(html):
        names.setdefault(found.group(1), f"e{secrets.token_hex(5)}")
    html = _ID.sub(lambda m: f'id="{names[m.group(1)]}"', html)
    html = _REFS.sub(
        lambda m: f'{m.group(1)}="{" ".join(names.get(n, n) for n in m.group(2).split())}"', html
    )
    return _TESTID.sub("", html)
