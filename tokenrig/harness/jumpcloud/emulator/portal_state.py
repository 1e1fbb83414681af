"""User-portal state that is not part of a user record: browser sessions and the portal policy.

A session is what the ``_jumpcloud_user_console_`` cookie names. It starts anonymous at
``GET /userconsole/xsrf`` (which also hands out the XSRF token every POST must echo), becomes
*MFA pending* when the password was right but a TOTP code is still owed, and *signed in* after
that. Enrollment progress (the pending seed, failed codes, last used step) lives on the user
record in ``models.py`` instead, so ``resetmfa`` and the console API see it.

The store is guarded by the emulator state's lock like everything else; it keeps no lock of
its own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from tokenrig.harness.jumpcloud.emulator.portal_looks import PortalLook
from tokenrig.harness.jumpcloud.emulator.portal_totp import DEFAULT_SECRET_BYTES
from tokenrig.harness.otp.verifier import TokenState
from tokenrig.harness.secrets import SECRET, redacted

SESSION_COOKIE = "_jumpcloud_user_console_"
MAX_SESSIONS = 10_000
"""Oldest sessions are dropped past this many, so a client looping on ``/xsrf`` cannot grow
the emulator without bound."""
THROTTLE_FAILURES = 10
THROTTLE_SECONDS = 300.0
"""Failed logins (wrong password, locked account, unknown email) allowed per email address in
a sliding window of this many seconds on the emulator's clock; past that ``/userconsole/auth``
answers 429 without looking at the password (emulator choice: JumpCloud's limits are not
public). It keeps a locked account from being a free password oracle."""
MAX_THROTTLE_KEYS = 10_000


@dataclass
class PortalPolicy:
    """Portal behaviour the real service does not document; each is an emulator choice.

    ``totp_window``: steps accepted either side of now (±1 = 90 s of codes).
    ``totp_secret_bytes``: seed length of new enrollments (20 = 160 bits; 10 = 80 bits, the
    16-character keys users report from JumpCloud).
    ``max_failed_codes``: wrong TOTP codes in a row (at enrollment or login) before the account
    is locked *when the org's ``passwordPolicy.enableMaxLoginAttempts`` is off*; while it is on
    (the default), codes and passwords both follow the org's ``maxLoginAttempts``.
    """

    totp_window: int = 1
    totp_secret_bytes: int = DEFAULT_SECRET_BYTES
    max_failed_codes: int = 5

    def validate(self) -> None:
        if not 0 <= self.totp_window <= 10:
            raise ValueError(f"totp_window must be 0..10 steps, got {self.totp_window}")
        if not 10 <= self.totp_secret_bytes <= 64:
            raise ValueError(f"totp_secret_bytes must be 10..64, got {self.totp_secret_bytes}")
        if not 1 <= self.max_failed_codes <= 100:
            raise ValueError(f"max_failed_codes must be 1..100, got {self.max_failed_codes}")

    def to_json(self) -> dict[str, int]:
        return {
            "totp_window": self.totp_window,
            "totp_secret_bytes": self.totp_secret_bytes,
            "max_failed_codes": self.max_failed_codes,
        }


class Stage(StrEnum):
    ANONYMOUS = "anonymous"
    MFA_PENDING = "mfa_pending"
    """Password accepted; ``/userconsole/auth/totp`` may finish the login."""
    SIGNED_IN = "signed_in"


@redacted
@dataclass
class PortalSession:
    id: str = field(metadata=SECRET)
    xsrf: str = field(metadata=SECRET)
    created: float
    stage: Stage = Stage.ANONYMOUS
    user_id: str | None = None
    mfa_deferred: bool = False
    """The user chose "Set Up Later" in this session (allowed only inside the grace period)."""

    def sign_in(self, user_id: str) -> None:
        self.user_id = user_id
        self.stage = Stage.SIGNED_IN

    def await_totp(self, user_id: str) -> None:
        self.user_id = user_id
        self.stage = Stage.MFA_PENDING

    def sign_out(self) -> None:
        self.user_id = None
        self.stage = Stage.ANONYMOUS
        self.mfa_deferred = False


@redacted
@dataclass
class PortalState:
    """Sessions by id plus the policy and the look; one per :class:`EmulatorState`."""

    policy: PortalPolicy = field(default_factory=PortalPolicy)
    look: PortalLook = field(default_factory=PortalLook)
    """Wording and id markup of the pages (portal_looks.py); kept across resets like the policy."""
    sessions: dict[str, PortalSession] = field(default_factory=dict, metadata=SECRET)
    failed_logins: dict[str, list[float]] = field(default_factory=dict)
    """Times of recent failed logins per throttle key (the casefolded email)."""
    token_memories: dict[str, TokenState] = field(default_factory=dict)
    """Verifier memory (learnt drift) per seed fingerprint: a new seed after ``resetmfa`` starts
    fresh without anyone having to clear it. The last used step lives on the user record."""

    def token_memory(self, seed_fingerprint: str) -> TokenState:
        return self.token_memories.setdefault(seed_fingerprint, TokenState())

    def new_session(self, now: float) -> PortalSession:
        while len(self.sessions) >= MAX_SESSIONS:
            del self.sessions[next(iter(self.sessions))]
        session = PortalSession(
            id=secrets.token_urlsafe(24), xsrf=secrets.token_urlsafe(24), created=now
        )
        self.sessions[session.id] = session
        return session

    def rotate(self, session: PortalSession, now: float) -> PortalSession:
        """The same login state under a new id and XSRF token; the old id is forgotten, so a
        cookie planted before the login never becomes signed in (session fixation)."""
        self.sessions.pop(session.id, None)
        fresh = self.new_session(now)
        fresh.stage = session.stage
        fresh.user_id = session.user_id
        fresh.mfa_deferred = session.mfa_deferred
        session.sign_out()
        return fresh

    def throttle_wait(self, key: str, now: float) -> int | None:
        """Seconds until ``key`` may try again, or None when it is not throttled."""
        recent = [t for t in self.failed_logins.get(key, []) if t > now - THROTTLE_SECONDS]
        if recent:
            self.failed_logins[key] = recent
        else:
            self.failed_logins.pop(key, None)
        if len(recent) < THROTTLE_FAILURES:
            return None
        return max(1, int(recent[0] + THROTTLE_SECONDS - now + 0.999))

    def record_failed_login(self, key: str, now: float) -> None:
        while len(self.failed_logins) >= MAX_THROTTLE_KEYS and key not in self.failed_logins:
            del self.failed_logins[next(iter(self.failed_logins))]
        self.failed_logins.setdefault(key, []).append(now)

    def get(self, session_id: str | None) -> PortalSession | None:
        return self.sessions.get(session_id) if session_id else None

    def end_sessions_of(self, user_id: str) -> None:
        """Sign a user out everywhere (deleted, suspended or locked user)."""
        for session in self.sessions.values():
            if session.user_id == user_id:
                session.sign_out()

    def clear(self) -> None:
        """Forget sessions; the policy stays as configured (like the orgs on an emulator reset)."""
        self.sessions.clear()
        self.failed_logins.clear()
        self.token_memories.clear()
