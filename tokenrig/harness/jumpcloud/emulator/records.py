"""The records the emulator keeps: organizations (with their default settings), system users
and V2 scheduled state changes. Behaviour lives in ``models.EmulatorState``; these are data,
with the small derived views (``activated``, ``mfa_json``, ``to_api``) the API answers with.

``models`` re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokenrig.harness.jumpcloud.emulator.primitives import iso_time
from tokenrig.harness.jumpcloud.objects import UserState
from tokenrig.harness.secrets import SECRET, Secret, SecretText, redacted


@dataclass
class Organization:
    """One JumpCloud org: its own API key, settings and (separately stored) users."""

    id: str
    display_name: str
    api_key: SecretText
    created: float
    settings: dict[str, Any] = field(default_factory=dict)
    totp_enabled: bool = True
    """"MFA Configurations → TOTP" switch (``/api/userportal/mfa/totp``)."""
    next_unix_id: int = 5001
    """Next auto-assigned ``unix_uid``/``unix_guid`` (JumpCloud numbers users from 5000 up)."""

    def to_api(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "id": self.id,
            "displayName": self.display_name,
            "created": iso_time(self.created),
            "settings": self.settings,
        }


def default_org_settings() -> dict[str, Any]:
    """The ``organizationsettings`` fields the harness reads or writes, at console defaults."""
    return {
        "name": "",
        "contactName": "",
        "contactEmail": "",
        "requireAdminMFA": False,
        "newSystemUserStateDefaults": {
            "manualEntry": "ACTIVATED",
            "csvImport": "ACTIVATED",
            "applicationImport": "ACTIVATED",
        },
        "passwordPolicy": {
            "allowUnenrolledMFAPasswordReset": False,
            "enableMaxLoginAttempts": True,
            "maxLoginAttempts": 5,
            "lockoutTimeInSeconds": 600,
        },
        "userPortal": {"cookieExpirationType": "session", "idleSessionDurationMinutes": 60},
    }


@redacted
@dataclass
class SystemUser:
    """A V1 system user. Typed fields are the ones with behaviour; ``profile`` keeps every other
    accepted ``systemuserputpost`` field (company, department, addresses...) verbatim."""

    id: str
    org_id: str
    username: str
    email: str
    created: float
    state: UserState = UserState.ACTIVATED
    suspended: bool = False
    firstname: str = ""
    lastname: str = ""
    alternate_email: str = ""
    password_hash: str | None = field(default=None, metadata=SECRET)
    password_date: float | None = None
    password_expired: bool = False
    account_locked: bool = False
    account_locked_date: float | None = None
    bad_login_attempts: int = 0
    # MFA: the per-user "Require MFA for User Portal" switch and its grace period.
    enable_user_portal_multifactor: bool = False
    mfa_exclusion: bool = False
    mfa_exclusion_days: int | None = None
    mfa_exclusion_until: float | None = None
    totp_secret: Secret | None = None
    """Confirmed TOTP seed (after "Verify Your Account"); None when not enrolled."""
    pending_totp_secret: Secret | None = None
    """Seed shown as QR code but not yet confirmed with a code."""
    totp_enrollment_date: float | None = None
    totp_failed_attempts: int = 0
    last_totp_step: int | None = None
    """Last accepted time step (replay rejection)."""
    enrollment_locked: bool = False
    """``account_locked`` was set because the MFA enrollment period ran out (``deadlines.py``):
    the lockout time never lifts it, ``unlock`` or ``resetmfa`` do."""
    reminder_sent_for: float | None = None
    """The ``mfa_exclusion_until`` the 24-hour reminder mail was sent for (one per deadline)."""
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def activated(self) -> bool:
        """JumpCloud's ``activated``: the user has set a password."""
        return self.password_hash is not None

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    def mfa_json(self) -> dict[str, Any]:
        mfa: dict[str, Any] = {"configured": self.totp_enabled, "exclusion": self.mfa_exclusion}
        if self.mfa_exclusion_days is not None:
            mfa["exclusionDays"] = self.mfa_exclusion_days
        if self.mfa_exclusion_until is not None:
            mfa["exclusionUntil"] = iso_time(self.mfa_exclusion_until)
        return mfa


@dataclass
class ScheduledStateChange:
    """A V2 ``/bulk/userstates`` job for one user: applied once the clock passes ``at``."""

    id: str
    org_id: str
    user_id: str
    state: UserState
    at: float
    send_activation_email: bool = True
    email_override: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "scheduledDate": iso_time(self.at),
            "scheduledJobId": self.id,
            "state": str(self.state),
            "systemUserId": self.user_id,
        }
