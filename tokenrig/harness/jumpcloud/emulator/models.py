"""State of the JumpCloud emulator, kept apart from HTTP (moto's models/responses split).

The records themselves are in ``records.py``, the mail types in ``outbox.py`` and the shared
small values (error, timestamps, ids, password hash) in ``primitives.py``; this module
re-exports them all, so ``from ...emulator.models import SystemUser`` keeps working.

Everything the emulator knows lives in one :class:`EmulatorState`: organizations (each with
its own API key, settings and users), system users, activation tokens, the mail outbox, the
fault/rate-limit plan and the shared :class:`~tokenrig.harness.clock.Clock`. HTTP handlers (the
console
API in ``console.py``, the user portal in ``portal*.py``) only translate requests into calls on
this state and the state into JSON/HTML; they never keep state of their own.

Thread safety: the HTTP server is threaded. Every handler that reads *or* writes the state
holds ``state.lock`` (a re-entrant lock) for the whole operation, e.g.::

    with state.lock:
        user = state.get_user(org, user_id)
        state.complete_totp_enrollment(user)

For the portal helper (``portal*.py``, ``mail.py``): add the fields and methods the portal
needs (sessions, pending enrollments, xsrf tokens, lockout policy...) to the classes here or
in your own module — *add*, never rename or remove, because the console API and its tests use
these names. Status transitions of ``mfaEnrollment`` are derived in
:meth:`EmulatorState.totp_status` from the user's fields, so the portal only has to call
:meth:`start_totp_enrollment` / :meth:`complete_totp_enrollment` and the console API reports
the right status.

Facts marked INFERRED in the research (status meanings, default grace of 7 days, password
hashing) are emulator choices; they are named constants so a test can see and change them.
"""

from __future__ import annotations

import hmac
import itertools
import secrets
import threading
from collections.abc import Iterator

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.jumpcloud.emulator.outbox import (
    MailComposer,
    MailKind,
    MailMessage,
    plain_mail,
)
from tokenrig.harness.jumpcloud.emulator.portal_state import PortalState
from tokenrig.harness.jumpcloud.emulator.primitives import (
    EmulatorError,
    check_password,
    hash_password,
    iso_time,
    new_object_id,
    parse_iso_time,
)
from tokenrig.harness.jumpcloud.emulator.records import (
    Organization,
    ScheduledStateChange,
    SystemUser,
    default_org_settings,
)
from tokenrig.harness.jumpcloud.objects import (  # one vocabulary for client and emulator
    MfaStatus,
    UserState,
)
from tokenrig.harness.secrets import Secret, SecretText

__all__ = [
    "ACTIVATION_LINK_DAYS",
    "DAY",
    "DEFAULT_ENROLLMENT_DAYS",
    "EmulatorError",
    "EmulatorState",
    "MailComposer",
    "MailKind",
    "MailMessage",
    "Organization",
    "ScheduledStateChange",
    "SystemUser",
    "check_password",
    "default_org_settings",
    "hash_password",
    "iso_time",
    "new_object_id",
    "parse_iso_time",
    "plain_mail",
]

DEFAULT_ENROLLMENT_DAYS = 7
"""Grace period for TOTP enrollment when neither exclusionDays nor exclusionUntil is given
(the console's default of 7 days)."""

ACTIVATION_LINK_DAYS = 7
"""Activation links expire after 7 days (help-center text)."""

DAY = 86_400.0


class EmulatorState:
    """All emulator state, guarded by :attr:`lock`. Methods assume the caller holds the lock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.lock = threading.RLock()
        self.public_url = ""
        """Base URL the server listens on (for links in mail); set by the server."""
        self.orgs: dict[str, Organization] = {}
        self.users: dict[str, SystemUser] = {}
        self.activation_tokens: dict[str, tuple[str, float]] = {}
        """token → (user id, expiry)."""
        self.outbox: list[MailMessage] = []
        self.scheduled_states: dict[str, ScheduledStateChange] = {}
        self.mail_composer: MailComposer = plain_mail
        self._mail_ids = itertools.count(1)
        self.portal = PortalState()
        """User-portal sessions and policy (TOTP window, seed length, lock-out); portal_state.py."""

    # -- time -------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    # -- organizations ------------------------------------------------------------------------
    def add_org(
        self, api_key: str, name: str = "Emulated Org", org_id: str | None = None
    ) -> Organization:
        if not api_key:
            raise EmulatorError("an organization needs a non-empty API key")
        if any(org.api_key.reveal() == api_key for org in self.orgs.values()):
            raise EmulatorError("that API key already belongs to an organization")
        org = Organization(
            id=org_id or new_object_id(self.now()),
            display_name=name,
            api_key=SecretText(api_key, "JumpCloud API key"),
            created=self.now(),
            settings=default_org_settings(),
        )
        org.settings["name"] = name
        self.orgs[org.id] = org
        return org

    def org_for_key(self, api_key: str) -> Organization | None:
        for org in self.orgs.values():
            if hmac.compare_digest(org.api_key.reveal().encode(), api_key.encode()):
                return org
        return None

    def reset(self) -> None:
        """Forget users, tokens and mail; keep organizations (and their keys) and the clock."""
        self.users.clear()
        self.activation_tokens.clear()
        self.scheduled_states.clear()
        self.outbox.clear()
        self.portal.clear()
        for org in self.orgs.values():
            name = org.display_name
            org.settings = default_org_settings()
            org.settings["name"] = name
            org.totp_enabled = True

    # -- users --------------------------------------------------------------------------------
    def users_of(self, org: Organization) -> Iterator[SystemUser]:
        return (user for user in self.users.values() if user.org_id == org.id)

    def get_user(self, org: Organization, user_id: str) -> SystemUser:
        user = self.users.get(user_id)
        if user is None or user.org_id != org.id:
            # Another org's user is indistinguishable from a missing one.
            raise EmulatorError("Not Found", 404)
        return user

    def find_user_by_email(self, email: str, org: Organization | None = None) -> SystemUser | None:
        """Portal login: email is unique per org; without an org, search every org."""
        wanted = email.casefold()
        for user in self.users.values():
            if user.email.casefold() == wanted and (org is None or user.org_id == org.id):
                return user
        return None

    def check_unique(self, org: Organization, user: SystemUser | None, **values: str) -> None:
        """400 when another user of ``org`` already has one of ``values`` (username, email...),
        compared case-insensitively."""
        wanted = {name: value.casefold() for name, value in values.items() if value}
        for other in self.users_of(org):
            if user is not None and other.id == user.id:
                continue
            for name, folded in wanted.items():
                current = (
                    getattr(other, name)
                    if name in ("username", "email")
                    else other.profile.get(name)
                )
                if isinstance(current, str) and current.casefold() == folded:
                    raise EmulatorError(f"User already exists: {name} {values[name]!r} is taken")

    def add_user(self, user: SystemUser) -> SystemUser:
        self.users[user.id] = user
        return user

    def delete_user(self, org: Organization, user_id: str) -> SystemUser:
        user = self.get_user(org, user_id)
        del self.users[user.id]
        self.activation_tokens = {
            token: entry for token, entry in self.activation_tokens.items() if entry[0] != user.id
        }
        self.scheduled_states = {
            job_id: job for job_id, job in self.scheduled_states.items() if job.user_id != user.id
        }
        return user

    def set_password(self, user: SystemUser, password: str) -> None:
        user.password_hash = hash_password(password)
        user.password_date = self.now()
        user.password_expired = False

    def activate(self, user: SystemUser, email: bool | str = True) -> MailMessage | None:
        """``state/activate``: STAGED → ACTIVATED, then mail unless ``email`` is False.

        A user with a password gets the Welcome mail at the primary address; one without gets
        the Activation mail at ``alternateEmail`` if set, else the primary address. A string
        ``email`` sends to that address instead. A relative grace period (``exclusionDays``)
        starts counting now (INFERRED: the research reads it as "days from activation").
        """
        if user.state is not UserState.STAGED:
            raise EmulatorError(f"User is not STAGED (state {user.state})", 409)
        self.set_state(user, UserState.ACTIVATED)
        if email is False:
            return None
        kind = MailKind.WELCOME if user.activated else MailKind.ACTIVATION
        default_to = user.email if user.activated else (user.alternate_email or user.email)
        return self.notify(kind, user, email if isinstance(email, str) else default_to)

    def set_state(self, user: SystemUser, state: UserState) -> None:
        """Move ``state`` and keep ``suspended`` consistent with it."""
        was_staged = user.state is UserState.STAGED
        user.state = state
        user.suspended = state is UserState.SUSPENDED
        if (
            was_staged
            and state is UserState.ACTIVATED
            and user.mfa_exclusion
            and user.mfa_exclusion_until is None
            and user.mfa_exclusion_days is not None
        ):
            user.mfa_exclusion_until = self.now() + DAY * user.mfa_exclusion_days

    def run_due_state_changes(self) -> None:
        """Apply what the clock has made due (called before each API call and portal login):
        scheduled state changes, then the enrollment reminders and locks of ``deadlines.py``."""
        from tokenrig.harness.jumpcloud.emulator.deadlines import run_enrollment_deadlines

        self._run_scheduled_states()
        run_enrollment_deadlines(self)

    def _run_scheduled_states(self) -> None:
        now = self.now()
        for job in sorted(self.scheduled_states.values(), key=lambda j: j.at):
            if job.at > now:
                continue
            del self.scheduled_states[job.id]
            user = self.users.get(job.user_id)
            if user is None or user.state is job.state:
                continue
            if job.state is UserState.ACTIVATED and user.state is UserState.STAGED:
                self.activate(
                    user, (job.email_override or True) if job.send_activation_email else False
                )
            else:
                self.set_state(user, job.state)

    # -- MFA ----------------------------------------------------------------------------------
    def start_enrollment_period(
        self,
        user: SystemUser,
        *,
        exclusion: bool = True,
        days: int | None = None,
        until: float | None = None,
    ) -> None:
        """(Re)start the TOTP grace period: ``until`` wins over ``days``; default 7 days."""
        user.mfa_exclusion = exclusion
        user.mfa_exclusion_days = days
        if not exclusion:
            user.mfa_exclusion_until = None
        elif until is not None:
            user.mfa_exclusion_until = until
        else:
            user.mfa_exclusion_until = self.now() + DAY * (days or DEFAULT_ENROLLMENT_DAYS)

    def reset_mfa(
        self,
        user: SystemUser,
        *,
        exclusion: bool = True,
        days: int | None = None,
        until: float | None = None,
    ) -> None:
        """``resetmfa``: forget the TOTP key and start a new enrollment period (which also
        lifts a lock the expired period put on the account)."""
        if user.enrollment_locked:
            self.clear_lock(user)
        user.totp_secret = None
        user.pending_totp_secret = None
        user.totp_enrollment_date = None
        user.totp_failed_attempts = 0
        user.last_totp_step = None
        if user.enable_user_portal_multifactor:
            self.start_enrollment_period(user, exclusion=exclusion, days=days, until=until)

    def clear_lock(self, user: SystemUser) -> None:
        """Lift ``account_locked`` and forget the failed attempts that led to it."""
        user.account_locked = False
        user.account_locked_date = None
        user.enrollment_locked = False
        user.bad_login_attempts = 0
        user.totp_failed_attempts = 0

    def unlock(self, user: SystemUser) -> None:
        """``POST /systemusers/{id}/unlock``: lift the lock; a lock from an expired enrollment
        period also gets a new period (``deadlines.unlock_enrollment``)."""
        from tokenrig.harness.jumpcloud.emulator.deadlines import unlock_enrollment

        if user.enrollment_locked:
            unlock_enrollment(self, user)
        self.clear_lock(user)

    def start_totp_enrollment(self, user: SystemUser, secret: Secret) -> None:
        """The user reached the QR code; the seed is pending until a first code confirms it."""
        user.pending_totp_secret = secret

    def complete_totp_enrollment(self, user: SystemUser) -> None:
        """A correct first code was entered: the pending seed becomes the user's TOTP key."""
        if user.pending_totp_secret is None:
            raise EmulatorError("no TOTP enrollment in progress", 409)
        user.totp_secret = user.pending_totp_secret
        user.pending_totp_secret = None
        user.totp_enrollment_date = self.now()
        user.totp_failed_attempts = 0

    def enrollment_expired(self, user: SystemUser) -> bool:
        """MFA required, not enrolled, and the grace period is over (portal locks the user out).

        Without an exclusion (no grace period at all) the user must enroll at the next login
        instead; that is not "expired"."""
        return (
            user.enable_user_portal_multifactor
            and not user.totp_enabled
            and self.org_of(user).totp_enabled
            and user.mfa_exclusion
            and user.mfa_exclusion_until is not None
            and self.now() >= user.mfa_exclusion_until
        )

    def totp_status(self, user: SystemUser) -> MfaStatus:
        """``mfaEnrollment.totpStatus`` derived from the user's fields (meanings INFERRED):
        enrolled → ENROLLED; org TOTP off → DISABLED; not required → NOT_ENROLLED; required but
        no password yet → PENDING_ACTIVATION; QR code shown, not confirmed → PRE_ENROLLMENT;
        required inside the grace period → IN_ENROLLMENT; grace over → ENROLLMENT_EXPIRED."""
        if user.totp_enabled:
            return MfaStatus.ENROLLED
        if not self.org_of(user).totp_enabled:
            return MfaStatus.DISABLED
        if not user.enable_user_portal_multifactor:
            return MfaStatus.NOT_ENROLLED
        if not user.activated or user.state is UserState.STAGED:
            return MfaStatus.PENDING_ACTIVATION
        if self.enrollment_expired(user):
            return MfaStatus.ENROLLMENT_EXPIRED
        if user.pending_totp_secret is not None:
            return MfaStatus.PRE_ENROLLMENT
        return MfaStatus.IN_ENROLLMENT

    def org_of(self, user: SystemUser) -> Organization:
        return self.orgs[user.org_id]

    # -- activation links and mail ------------------------------------------------------------
    def issue_activation_token(self, user: SystemUser) -> str:
        token = secrets.token_urlsafe(24)
        self.activation_tokens[token] = (user.id, self.now() + ACTIVATION_LINK_DAYS * DAY)
        return token

    def redeem_activation_token(self, token: str) -> SystemUser:
        """The user behind a valid, unexpired activation token (which is then used up)."""
        entry = self.activation_tokens.get(token)
        if entry is None or entry[1] <= self.now() or entry[0] not in self.users:
            raise EmulatorError("Activation code has either already been used or has expired.", 410)
        del self.activation_tokens[token]
        return self.users[entry[0]]

    def activation_link(self, user: SystemUser) -> str:
        return f"{self.public_url}/activate?token={self.issue_activation_token(user)}"

    def notify(
        self, kind: MailKind, user: SystemUser, to: str | None = None, at: float | None = None
    ) -> MailMessage:
        """Compose and "send" a mail of ``kind`` to ``to`` (default: the user's email), stamped
        ``at`` (default: now)."""
        link = (
            self.activation_link(user)
            if kind in (MailKind.ACTIVATION, MailKind.PASSWORD_RESET)
            else f"{self.public_url}/login"
        )
        message = self.mail_composer(self, kind, user, to or user.email, link)
        return self.send_mail(message, at)

    def send_mail(self, message: MailMessage, at: float | None = None) -> MailMessage:
        """Stamp and queue ``message``; ``at`` backdates it to when it fell due."""
        stamped = MailMessage(
            to=message.to,
            subject=message.subject,
            body=message.body,
            kind=message.kind,
            links=message.links,
            user_id=message.user_id,
            org_id=message.org_id,
            sent_at=self.now() if at is None else at,
            id=next(self._mail_ids),
        )
        self.outbox.append(stamped)
        return stamped
