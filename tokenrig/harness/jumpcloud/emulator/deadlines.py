"""What the end of a TOTP enrollment grace period does, on the emulator's clock: a reminder
mail 24 hours before it ends, and ``account_locked`` once it has ended (JumpCloud's help
pages: an expired enrollment period locks the account; ``unlock`` lifts it).

The clock may jump (a virtual clock in tests), so this runs lazily: before each console call
and portal login, and after the clock controls move the clock. A reminder that fell due during
a jump is still sent, stamped with the time it fell due, before the lock that follows it.

Emulator choices (the public sources are silent): ``unlock`` after an enrollment lock starts a
new grace period of the user's ``exclusionDays`` (default 7), so the user can log in and set up
the authenticator; the lock is never lifted by ``lockoutTimeInSeconds``, which is for wrong
passwords and codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenrig.harness.jumpcloud.emulator.models import EmulatorState, SystemUser

REMINDER_BEFORE = 86_400.0
"""The reminder goes out this many seconds before the grace period ends (24 h)."""


def _deadline(state: EmulatorState, user: SystemUser) -> float | None:
    """When the user's grace period ends, or None when no deadline applies to them."""
    if (
        not user.enable_user_portal_multifactor
        or user.totp_enabled
        or not user.mfa_exclusion
        or user.mfa_exclusion_until is None
        or not state.org_of(user).totp_enabled
    ):
        return None
    return user.mfa_exclusion_until


def run_enrollment_deadlines(state: EmulatorState) -> None:
    """Send the reminders and apply the locks that are due now (caller holds the lock)."""
    from tokenrig.harness.jumpcloud.emulator.models import MailKind

    now = state.now()
    for user in list(state.users.values()):
        until = _deadline(state, user)
        if until is None:
            continue
        due = until - REMINDER_BEFORE
        if now >= due and user.reminder_sent_for != until and user.activated:
            user.reminder_sent_for = until
            state.notify(MailKind.MFA_REMINDER, user, at=min(due, now))
        if now >= until and not user.enrollment_locked:
            user.account_locked = True
            user.account_locked_date = until
            user.enrollment_locked = True


def unlock_enrollment(state: EmulatorState, user: SystemUser) -> None:
    """Give a user locked by an expired period a new one (see the module docstring)."""
    state.start_enrollment_period(user, exclusion=True, days=user.mfa_exclusion_days)
