"""Activation and password-reset links on the emulated portal: who a link belongs to, why a
new password is refused, and setting it (the link is then used up and the user's portal
sessions end).

Separate from ``portal_flows`` (login and MFA) because it needs no session: the link itself is
the credential. ``portal_flows`` re-exports these names for the HTTP side.
"""

from __future__ import annotations

from tokenrig.harness.jumpcloud.emulator.models import EmulatorError, EmulatorState, SystemUser
from tokenrig.harness.jumpcloud.emulator.user_schema import PasswordPolicyError
from tokenrig.harness.jumpcloud.emulator.user_schema import check_password as check_password_policy


def activation_user(state: EmulatorState, token: str) -> SystemUser:
    """The user an activation/reset link belongs to, without using the link up."""
    with state.lock:
        entry = state.activation_tokens.get(token)
        if entry is None or entry[1] <= state.now() or entry[0] not in state.users:
            raise EmulatorError("Activation code has either already been used or has expired.", 410)
        return state.users[entry[0]]


_POLICY_WORDS = {
    "minLength": "at least 8 characters",
    "alphabetic": "a letter",
    "numeric": "a digit",
}


def password_problem(password: str, confirm: str) -> str | None:
    """Why a new password is refused (the console's password policy, then the confirmation)."""
    try:
        check_password_policy(password, True)
    except PasswordPolicyError as exc:
        needs = ", ".join(_POLICY_WORDS.get(problem, problem) for problem in exc.problems)
        return f"Password does not meet the password policy: it needs {needs}."
    if password != confirm:
        return "Passwords do not match."
    return None


def activate(state: EmulatorState, token: str, password: str, confirm: str) -> SystemUser:
    """Set the password from an activation or reset link; the link is then used up."""
    problem = password_problem(password, confirm)
    with state.lock:
        activation_user(state, token)
        if problem is not None:
            raise EmulatorError(problem, 400)
        user = state.redeem_activation_token(token)
        state.set_password(user, password)
        state.portal.end_sessions_of(user.id)
        return user
