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

from tokenrig.harness.jumpcloud.emulator.portal_totp import DEFAULT_SECRET_BYTES
from tokenrig.harness.otp.verifier import TokenState
from tokenrig.harness.secrets import SECRET, redacted

SESSION_COOKIE = "_jumpcloud_user_console_"
MAX_SESSIONS = 10_000
"""Oldest sessions are dropped past this many, so a client looping on ``/xsrf`` cannot grow
the emulator without bound."""


@dataclass
class PortalPolicy:
    """Portal behaviour the real service does not document; each is an emulator choice.

    ``totp_window``: steps accepted either side of now (±1 = 90 s of codes).
    ``totp_secret_bytes``: seed length of new enrollments (20 = 160 bits; 10 = 80 bits, the
    16-character keys users report from JumpCloud).
    ``max_failed_codes``: wrong TOTP codes in a row (at enrollment or login) before the account
    is locked. Wrong passwords lock after the org's ``passwordPolicy.maxLoginAttempts``.
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
    """Sessions by id plus the policy; one per :class:`EmulatorState`."""

    policy: PortalPolicy = field(default_factory=PortalPolicy)
    sessions: dict[str, PortalSession] = field(default_factory=dict, metadata=SECRET)
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
        self.token_memories.clear()
