"""What the enrollment procedure needs from a User Portal, whichever way it is reached.

:class:`~tokenrig.harness.jumpcloud.portal_client.PortalClient` (JSON calls) and
:class:`~tokenrig.harness.jumpcloud.portal_driver.PortalDriver` (a real browser) both fit
:class:`UserPortal`; the procedure never knows which one it has.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from tokenrig.harness.jumpcloud.portal_client import LoginResult, VerifyResult
from tokenrig.harness.secrets import SecretText


class UserPortal(Protocol):
    """One portal user's session."""

    @property
    def kind(self) -> str:
        """``"api"`` or ``"browser"`` (for step names and reports)."""
        ...

    def activate(self, link: str, password: SecretText) -> None: ...

    def login(self, email: str, password: SecretText) -> LoginResult: ...

    def submit_login_code(self, code: str) -> LoginResult: ...

    def logout(self) -> None: ...

    def open_totp_setup(self, *, forced: bool) -> bytes:
        """Walk to the QR code; return it as a PNG (a screenshot in the browser)."""
        ...

    def qr_png(self) -> bytes: ...

    def verify_totp(self, code: str) -> VerifyResult: ...

    def totp_active(self) -> bool: ...


class Mailbox(Protocol):
    """Where the activation mail arrives (emulator outbox, or a real test mailbox)."""

    def activation_link(self, to: str) -> str:
        """The link of the newest activation mail sent to ``to``."""
        ...


def new_password() -> SecretText:
    """A password that satisfies the portal's policy, different on every call."""
    return SecretText(f"Tr-{secrets.token_urlsafe(12)}-9a", "portal password")
