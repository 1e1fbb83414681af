"""Wording of the mails the emulated JumpCloud sends; the server installs :func:`compose` as
``state.mail_composer`` and the console API calls ``state.notify(kind, user)``.

Each mail is plain text whose links are also listed in ``MailMessage.links``, so a test (or a
person reading ``/__emulator__/outbox``) follows a link without parsing prose: the activation
link opens the set-password page, the others open the portal's login page. Subjects follow the
real service where it is known ("MFA Now Enabled on your JumpCloud Account"); the rest is
plausible wording, not a copy of JumpCloud's templates. No mail ever contains a password or a
TOTP key.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenrig.harness.jumpcloud.emulator.models import (
    ACTIVATION_LINK_DAYS,
    EmulatorState,
    MailKind,
    MailMessage,
    SystemUser,
    iso_time,
)


@dataclass(frozen=True)
class _Wording:
    subject: str
    intro: str
    action: str
    outro: str


_WORDING: dict[MailKind, _Wording] = {
    MailKind.ACTIVATION: _Wording(
        subject="Activate your JumpCloud account",
        intro="Your administrator created a JumpCloud account for you.",
        action="Activate your account and choose a password",
        outro=f"This activation link expires in {ACTIVATION_LINK_DAYS} days.",
    ),
    MailKind.WELCOME: _Wording(
        subject="Welcome to JumpCloud",
        intro="Your JumpCloud account is active.",
        action="Log in to the JumpCloud User Portal",
        outro="Use the password your administrator gave you, or the one you chose.",
    ),
    MailKind.PASSWORD_RESET: _Wording(
        subject="Reset your JumpCloud password",
        intro="A password reset was requested for your JumpCloud account.",
        action="Choose a new password",
        outro=f"This link expires in {ACTIVATION_LINK_DAYS} days. "
        "If you did not ask for it, ignore this mail.",
    ),
    MailKind.MFA_ENABLED: _Wording(
        subject="MFA Now Enabled on your JumpCloud Account",
        intro="Your administrator now requires multi-factor authentication (MFA) "
        "for the JumpCloud User Portal.",
        action="Set Up MFA",
        outro="",
    ),
    MailKind.MFA_REMINDER: _Wording(
        subject="Reminder: set up MFA on your JumpCloud Account",
        intro="Your multi-factor authentication (MFA) enrollment period ends in 24 hours.",
        action="Log in and set up an authenticator app",
        outro="",
    ),
}


def _greeting(user: SystemUser) -> str:
    return f"Hello {user.firstname or user.username},"


def _mfa_deadline(state: EmulatorState, user: SystemUser) -> str:
    """The grace-period sentence of the MFA mail (empty when there is no period)."""
    if not user.mfa_exclusion or user.mfa_exclusion_until is None:
        return "You will be asked to set up an authenticator app at your next login."
    return (
        "Set up an authenticator app before "
        f"{iso_time(user.mfa_exclusion_until)} (UTC) or you will be locked out of the "
        "User Portal. You can start at your next login."
    )


def compose(
    state: EmulatorState, kind: MailKind, user: SystemUser, to: str, link: str | None
) -> MailMessage:
    """One mail of ``kind`` for ``user``, addressed to ``to`` (``state.notify`` stamps it)."""
    wording = _WORDING[kind]
    lines = [_greeting(user), "", wording.intro, ""]
    if kind in (MailKind.MFA_ENABLED, MailKind.MFA_REMINDER):
        lines += [_mfa_deadline(state, user), ""]
    lines += [f"Username: {user.username}", f"Email: {user.email}", ""]
    if link:
        lines += [f"{wording.action}:", link, ""]
    if wording.outro:
        lines += [wording.outro, ""]
    lines += ["-- JumpCloud (tokenrig emulator)"]
    return MailMessage(
        to=to,
        subject=wording.subject,
        body="\n".join(lines) + "\n",
        kind=kind,
        links=(link,) if link else (),
        user_id=user.id,
        org_id=user.org_id,
    )
