"""What the emulated User Portal does, apart from HTTP: log in, owe a TOTP code, the MFA gate
(grace period, "Set Up Later", lock-out after it), TOTP enrollment and lock-out after wrong
codes (activation links and new passwords: ``portal_activation.py``).

The HTML pages and the JSON calls in ``portal.py`` both call these functions, so a browser and
an API-level client walk exactly the same rules. Every function takes ``state.lock`` itself.

Rules the real service does not document are emulator choices, kept in one place:

* wrong passwords and wrong TOTP codes (at enrollment or login) lock the account after the
  org's ``passwordPolicy.maxLoginAttempts`` (when ``enableMaxLoginAttempts``; codes fall back
  to ``PortalPolicy.max_failed_codes`` when it is off); a locked account unlocks itself after
  the org's ``lockoutTimeInSeconds``, or at once through the console's ``unlock``;
* a locked account answers the same whatever the password (which is not even checked), and
  failed logins per email are throttled (``portal_state.THROTTLE_FAILURES``): 429;
* login looks the email up in the org named by ``orgId`` when given; an email held by portal
  users of more than one org without ``orgId`` is a 409, never a guess;
* a login that succeeds (or reaches the TOTP step) moves to a new session id and XSRF token;
* a TOTP code is asked at login only while the org's TOTP factor is switched on;
* when MFA is required and the grace period is over (or there is none), the user cannot log
  in to the portal at all until an admin runs ``resetmfa`` (which starts a new period).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tokenrig.harness.jumpcloud.emulator.models import (
    DAY,
    EmulatorError,
    EmulatorState,
    SystemUser,
    check_password,
)
from tokenrig.harness.jumpcloud.emulator.portal_state import PortalSession, Stage
from tokenrig.harness.jumpcloud.emulator.portal_totp import check_code, new_totp_secret
from tokenrig.harness.jumpcloud.objects import UserState
from tokenrig.harness.otp.window import WindowPolicy
from tokenrig.harness.secrets import Secret

HOME = "/userconsole/"
MFA_SETUP = "/userconsole/mfa/setup"

MSG_AUTH_FAILED = "Authentication failed."
MSG_MFA_REQUIRED = "MFA required."
MSG_LOCKED = "Your account is locked. Contact your administrator."
MSG_ENROLLMENT_EXPIRED = (
    "Your multi-factor authentication enrollment period has expired. Contact your administrator."
)
MSG_ENROLLED = "Authenticator App Enrollment Successful!"
MSG_WRONG_CODE = "The code is not valid. Try again with the current code from your app."


class Gate(StrEnum):
    """Where a signed-in user stands with the admin's "Require MFA for User Portal"."""

    OPEN = "open"
    """No requirement, TOTP already set up, or the org's TOTP factor is off."""
    GRACE = "grace"
    """Required, not set up, days remain: the setup page with "Set Up Later"."""
    EXPIRED = "expired"
    """Required, not set up, no days remain: locked out of the portal."""


@dataclass(frozen=True)
class MfaGate:
    gate: Gate
    days_remaining: int = 0
    until: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "gate": str(self.gate),
            "daysRemaining": self.days_remaining if self.gate is Gate.GRACE else None,
            "canSetUpLater": self.gate is Gate.GRACE,
        }


def mfa_gate(state: EmulatorState, user: SystemUser) -> MfaGate:
    """The user's gate now. Days remaining round up: 1.2 days left reads "2 days"."""
    with state.lock:
        if (
            not user.enable_user_portal_multifactor
            or user.totp_enabled
            or not state.org_of(user).totp_enabled
        ):
            return MfaGate(Gate.OPEN)
        if state.enrollment_expired(user) or user.mfa_exclusion_until is None:
            return MfaGate(Gate.EXPIRED)
        left = user.mfa_exclusion_until - state.now()
        return MfaGate(Gate.GRACE, max(1, math.ceil(left / DAY)), user.mfa_exclusion_until)


def totp_due(state: EmulatorState, user: SystemUser) -> bool:
    """A code is asked at login when the user has TOTP and the org's factor is on."""
    return user.totp_enabled and state.org_of(user).totp_enabled


class Outcome(StrEnum):
    OK = "ok"
    MFA_REQUIRED = "mfa_required"
    FAILED = "failed"
    LOCKED = "locked"
    ENROLLMENT_EXPIRED = "enrollment_expired"
    THROTTLED = "throttled"
    AMBIGUOUS = "ambiguous"


MSG_THROTTLED = "Too many failed login attempts. Try again later."
MSG_AMBIGUOUS = (
    "This email address has accounts in more than one organization: log in with the"
    " organization's id (orgId)."
)


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    redirect_to: str = ""
    session: PortalSession | None = None
    """The rotated session when the login advanced (its cookie must be sent)."""
    retry_after: int = 0

    def to_json(self) -> tuple[int, dict[str, Any]]:
        """``(status, body)`` as ``/userconsole/auth`` answers."""
        if self.outcome is Outcome.OK:
            return 200, {"redirectTo": self.redirect_to}
        if self.outcome is Outcome.MFA_REQUIRED:
            return 401, {
                "message": MSG_MFA_REQUIRED,
                "factors": [{"type": "totp", "status": "available"}],
            }
        if self.outcome is Outcome.THROTTLED:
            return 429, {"message": MSG_THROTTLED}
        if self.outcome is Outcome.AMBIGUOUS:
            return 409, {"message": MSG_AMBIGUOUS}
        message = {
            Outcome.FAILED: MSG_AUTH_FAILED,
            Outcome.LOCKED: MSG_LOCKED,
            Outcome.ENROLLMENT_EXPIRED: MSG_ENROLLMENT_EXPIRED,
        }[self.outcome]
        return 401, {"message": message}


def _password_policy(state: EmulatorState, user: SystemUser) -> dict[str, Any]:
    policy = state.org_of(user).settings.get("passwordPolicy")
    return policy if isinstance(policy, dict) else {}


def _lock(state: EmulatorState, user: SystemUser) -> None:
    user.account_locked = True
    user.account_locked_date = state.now()
    user.pending_totp_secret = None
    state.portal.end_sessions_of(user.id)


def unlock_if_lockout_over(state: EmulatorState, user: SystemUser) -> None:
    """Lift a lock older than the org's ``lockoutTimeInSeconds`` (the service's auto-unlock)."""
    if not user.account_locked or user.account_locked_date is None or user.enrollment_locked:
        return
    seconds = _password_policy(state, user).get("lockoutTimeInSeconds")
    if isinstance(seconds, int | float) and state.now() >= user.account_locked_date + seconds:
        state.clear_lock(user)


def _count_bad_password(state: EmulatorState, user: SystemUser) -> None:
    user.bad_login_attempts += 1
    policy = _password_policy(state, user)
    limit = policy.get("maxLoginAttempts")
    if not policy.get("enableMaxLoginAttempts") or not isinstance(limit, int) or limit < 1:
        return
    if user.bad_login_attempts >= limit:
        _lock(state, user)


def code_attempt_limit(state: EmulatorState, user: SystemUser) -> int:
    """Wrong TOTP codes before the lock: the org's ``maxLoginAttempts`` ("the allowed number
    of user attempts is set by the IT admin"), or the portal policy's when the org's limit is
    switched off."""
    policy = _password_policy(state, user)
    limit = policy.get("maxLoginAttempts")
    if policy.get("enableMaxLoginAttempts") and isinstance(limit, int) and limit >= 1:
        return limit
    return state.portal.policy.max_failed_codes


def _count_bad_code(state: EmulatorState, user: SystemUser) -> bool:
    """Count a wrong TOTP code; True when that locked the account."""
    user.totp_failed_attempts += 1
    if user.totp_failed_attempts >= code_attempt_limit(state, user):
        _lock(state, user)
        return True
    return False


def _window(state: EmulatorState) -> WindowPolicy:
    return WindowPolicy.symmetric(state.portal.policy.totp_window)


def _accept_code(state: EmulatorState, user: SystemUser, secret: Secret, otp: str) -> bool:
    """Check ``otp`` against ``secret``; on success remember its step (replay) and drift."""
    memory = state.portal.token_memory(secret.fingerprint)
    memory.last_counter = -1 if user.last_totp_step is None else user.last_totp_step
    verdict = check_code(secret, otp, state.now(), policy=_window(state), memory=memory)
    if not verdict.accepted:
        return False
    user.last_totp_step = verdict.counter
    return True


def _portal_users(state: EmulatorState, email: str, org_id: str | None) -> list[SystemUser]:
    """The users who may log in with ``email`` (in org ``org_id`` when given): activated (has
    a password) and not suspended. Others get the same "Authentication failed." as a wrong
    password."""
    wanted = email.casefold()
    return [
        user
        for user in state.users.values()
        if email
        and user.email.casefold() == wanted
        and (org_id is None or user.org_id == org_id)
        and user.activated
        and user.state is UserState.ACTIVATED
    ]


def _finish_login(
    state: EmulatorState, session: PortalSession, user: SystemUser, *, code_accepted: bool
) -> LoginResult:
    gate = mfa_gate(state, user)
    if gate.gate is Gate.EXPIRED:
        session.sign_out()
        return LoginResult(Outcome.ENROLLMENT_EXPIRED)
    user.bad_login_attempts = 0
    if code_accepted:  # a password alone does not wipe out wrong codes (enrollment included)
        user.totp_failed_attempts = 0
    session.sign_in(user.id)
    session.mfa_deferred = False
    return LoginResult(Outcome.OK, MFA_SETUP if gate.gate is Gate.GRACE else HOME)


def login(
    state: EmulatorState,
    session: PortalSession,
    email: str,
    password: str,
    otp: str | None,
    org_id: str | None = None,
) -> LoginResult:
    """``POST /userconsole/auth``: password, then the TOTP code when one is due. Throttled per
    email; the session is rotated when the login advances (see the module docstring)."""
    with state.lock:
        state.run_due_state_changes()
        session.sign_out()
        key = f"{org_id or ''}/{email.casefold()}"
        wait = state.portal.throttle_wait(key, state.now())
        if wait is not None:
            return LoginResult(Outcome.THROTTLED, retry_after=wait)
        result = _login(state, session, email, password, otp, org_id)
        if result.outcome in (Outcome.FAILED, Outcome.LOCKED, Outcome.ENROLLMENT_EXPIRED):
            state.portal.record_failed_login(key, state.now())
        if session.stage is not Stage.ANONYMOUS:
            fresh = state.portal.rotate(session, state.now())
            return LoginResult(result.outcome, result.redirect_to, fresh)
        return result


def _login(
    state: EmulatorState,
    session: PortalSession,
    email: str,
    password: str,
    otp: str | None,
    org_id: str | None,
) -> LoginResult:
    candidates = _portal_users(state, email, org_id)
    if len(candidates) > 1:
        return LoginResult(Outcome.AMBIGUOUS)
    if not candidates:
        return LoginResult(Outcome.FAILED)
    user = candidates[0]
    unlock_if_lockout_over(state, user)
    if user.account_locked:
        # The same answer for any password, which is not even checked: no oracle.
        expired = user.enrollment_locked
        return LoginResult(Outcome.ENROLLMENT_EXPIRED if expired else Outcome.LOCKED)
    if not check_password(user.password_hash, password):
        _count_bad_password(state, user)
        return LoginResult(Outcome.FAILED)
    if totp_due(state, user):
        assert user.totp_secret is not None
        if otp and not _accept_code(state, user, user.totp_secret, otp):
            if _count_bad_code(state, user):
                return LoginResult(Outcome.LOCKED)
            otp = None
        if not otp:
            session.await_totp(user.id)
            return LoginResult(Outcome.MFA_REQUIRED)
        return _finish_login(state, session, user, code_accepted=True)
    return _finish_login(state, session, user, code_accepted=False)


def login_totp(state: EmulatorState, session: PortalSession, otp: str) -> LoginResult:
    """``POST /userconsole/auth/totp``: the code owed after a password was accepted."""
    with state.lock:
        user = state.users.get(session.user_id or "")
        if session.user_id is None or user is None or session.stage is not Stage.MFA_PENDING:
            return LoginResult(Outcome.FAILED)
        if user.account_locked or user.totp_secret is None or user.state is not UserState.ACTIVATED:
            session.sign_out()
            return LoginResult(Outcome.LOCKED if user.account_locked else Outcome.FAILED)
        if not _accept_code(state, user, user.totp_secret, otp):
            if _count_bad_code(state, user):
                session.sign_out()
                return LoginResult(Outcome.LOCKED)
            return LoginResult(Outcome.FAILED)
        result = _finish_login(state, session, user, code_accepted=True)
        if result.outcome is Outcome.OK:
            fresh = state.portal.rotate(session, state.now())
            return LoginResult(result.outcome, result.redirect_to, fresh)
        return result


def signed_in_user(state: EmulatorState, session: PortalSession | None) -> SystemUser | None:
    """The session's user if it may still use the portal; signs the session out otherwise
    (user deleted, suspended or locked since the login)."""
    if session is None or session.stage is not Stage.SIGNED_IN:
        return None
    with state.lock:
        user = state.users.get(session.user_id or "")
        locked = user is not None and user.account_locked and not user.enrollment_locked
        if user is None or user.state is not UserState.ACTIVATED or locked:
            session.sign_out()
            return None
        return user  # an expired enrollment period is answered by the MFA gate (403)


def defer_setup(state: EmulatorState, session: PortalSession, user: SystemUser) -> MfaGate:
    """The "Set Up Later" button: allowed only while days remain."""
    with state.lock:
        gate = mfa_gate(state, user)
        if gate.gate is not Gate.GRACE:
            raise EmulatorError("Set Up Later is only possible during the enrollment period.", 403)
        session.mfa_deferred = True
        return gate


def start_totp(state: EmulatorState, user: SystemUser) -> Secret:
    """The "I Have the App" button: a new seed, pending until a first code confirms it."""
    with state.lock:
        if not state.org_of(user).totp_enabled:
            raise EmulatorError("Your organization has not enabled the authenticator app.", 403)
        if user.totp_enabled:
            raise EmulatorError("Authenticator App is already active on your account.", 409)
        secret = new_totp_secret(state.portal.policy.totp_secret_bytes)
        state.start_totp_enrollment(user, secret)
        return secret


class VerifyOutcome(StrEnum):
    ENROLLED = "enrolled"
    WRONG_CODE = "wrong_code"
    LOCKED = "locked"


@dataclass(frozen=True)
class VerifyResult:
    outcome: VerifyOutcome
    attempts_remaining: int = 0


def verify_totp(state: EmulatorState, user: SystemUser, otp: str) -> VerifyResult:
    """The "Verify Your Account" form: the first code confirms the pending seed."""
    with state.lock:
        pending = user.pending_totp_secret
        if pending is None:
            raise EmulatorError("No authenticator app setup is in progress.", 409)
        if _accept_code(state, user, pending, otp):
            state.complete_totp_enrollment(user)
            return VerifyResult(VerifyOutcome.ENROLLED)
        if _count_bad_code(state, user):
            return VerifyResult(VerifyOutcome.LOCKED)
        remaining = code_attempt_limit(state, user) - user.totp_failed_attempts
        return VerifyResult(VerifyOutcome.WRONG_CODE, remaining)
