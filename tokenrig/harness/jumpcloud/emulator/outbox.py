"""The mail the emulator "sends": kinds, the stamped message kept in the outbox, the composer
signature, and the plain fallback wording (``mail.py`` installs the real one).

Read back through ``/__emulator__/outbox``; ``models`` re-exports every name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tokenrig.harness.jumpcloud.emulator.primitives import iso_time
from tokenrig.harness.secrets import SECRET, redacted

if TYPE_CHECKING:
    from tokenrig.harness.jumpcloud.emulator.models import EmulatorState
    from tokenrig.harness.jumpcloud.emulator.records import SystemUser


class MailKind(StrEnum):
    ACTIVATION = "activation"  # user without password: "activate your account" + link
    WELCOME = "welcome"  # user with a password, activated
    PASSWORD_RESET = "password_reset"  # noqa: S105 - resend for an already active user
    MFA_ENABLED = "mfa_enabled"  # "MFA Now Enabled on your JumpCloud Account"
    MFA_REMINDER = "mfa_reminder"  # 24 h before the enrollment grace period ends


@redacted
@dataclass(frozen=True)
class MailMessage:
    """One mail the emulator "sent"; read back through ``/__emulator__/outbox``."""

    to: str
    subject: str
    body: str = field(metadata=SECRET)
    kind: MailKind
    links: tuple[str, ...] = field(default=(), metadata=SECRET)  # carry one-time tokens
    user_id: str | None = None
    org_id: str | None = None
    sent_at: float = 0.0
    id: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "kind": str(self.kind),
            "links": list(self.links),
            "user_id": self.user_id,
            "org_id": self.org_id,
            "sent_at": iso_time(self.sent_at),
        }


MailComposer = Callable[["EmulatorState", MailKind, "SystemUser", str, str | None], MailMessage]
"""``(state, kind, user, to_address, link) -> MailMessage``; ``mail.py`` provides the real one."""


def plain_mail(
    state: EmulatorState, kind: MailKind, user: SystemUser, to: str, link: str | None
) -> MailMessage:
    """Fallback composer used until ``mail.py`` installs the real wording."""
    subjects = {
        MailKind.ACTIVATION: "Activate your JumpCloud account",
        MailKind.WELCOME: "Welcome to JumpCloud",
        MailKind.PASSWORD_RESET: "Reset your JumpCloud password",
        MailKind.MFA_ENABLED: "MFA Now Enabled on your JumpCloud Account",
        MailKind.MFA_REMINDER: "Reminder: set up MFA on your JumpCloud Account",
    }
    links = (link,) if link else ()
    body = f"Hello {user.firstname or user.username},\n\n{subjects[kind]}: {link or ''}\n"
    return MailMessage(
        to=to,
        subject=subjects[kind],
        body=body,
        kind=kind,
        links=links,
        user_id=user.id,
        org_id=user.org_id,
    )
