"""Typed views of JumpCloud's JSON: what the harness reads from users, orgs and jobs.

Each type keeps the whole JSON object in ``raw`` so a test can reach a field the dataclass does
not name, and parses leniently (a missing field gets its default) because live responses grow
fields over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class UserState(StrEnum):
    STAGED = "STAGED"
    ACTIVATED = "ACTIVATED"
    SUSPENDED = "SUSPENDED"


class MfaStatus(StrEnum):
    """``mfaEnrollmentStatus`` of the V1 spec."""

    NOT_ENROLLED = "NOT_ENROLLED"
    DISABLED = "DISABLED"
    PENDING_ACTIVATION = "PENDING_ACTIVATION"
    ENROLLMENT_EXPIRED = "ENROLLMENT_EXPIRED"
    IN_ENROLLMENT = "IN_ENROLLMENT"
    PRE_ENROLLMENT = "PRE_ENROLLMENT"
    ENROLLED = "ENROLLED"
    UNKNOWN = "UNKNOWN"
    """A value this harness does not know yet (kept, not rejected)."""

    @classmethod
    def parse(cls, value: Any) -> MfaStatus:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


def parse_time(value: Any) -> datetime | None:
    """JumpCloud's ISO timestamps (``...Z``) as aware datetimes; None for empty/absent."""
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def format_time(stamp: datetime) -> str:
    """An aware datetime as JumpCloud writes it: ``2026-08-25T12:00:00.000Z``."""
    if stamp.tzinfo is None:
        raise ValueError("JumpCloud times must be timezone-aware (use datetime.now(UTC))")
    utc = stamp.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Mfa:
    """``mfa``: the per-user grace period for TOTP enrollment."""

    configured: bool = False
    exclusion: bool = False
    exclusion_days: int | None = None
    exclusion_until: datetime | None = None

    @classmethod
    def from_json(cls, data: Any) -> Mfa:
        data = data if isinstance(data, dict) else {}
        days = data.get("exclusionDays")
        return cls(
            configured=bool(data.get("configured", False)),
            exclusion=bool(data.get("exclusion", False)),
            exclusion_days=int(days)
            if isinstance(days, int | str) and str(days).isdigit()
            else None,
            exclusion_until=parse_time(data.get("exclusionUntil")),
        )


@dataclass(frozen=True)
class MfaEnrollment:
    """``mfaEnrollment``: one status per factor plus the overall one."""

    overall: MfaStatus = MfaStatus.NOT_ENROLLED
    totp: MfaStatus = MfaStatus.NOT_ENROLLED
    webauthn: MfaStatus = MfaStatus.NOT_ENROLLED
    push: MfaStatus = MfaStatus.NOT_ENROLLED
    jc_go: MfaStatus = MfaStatus.NOT_ENROLLED
    sms: MfaStatus = MfaStatus.NOT_ENROLLED

    @classmethod
    def from_json(cls, data: Any) -> MfaEnrollment:
        data = data if isinstance(data, dict) else {}

        def status(name: str) -> MfaStatus:
            return MfaStatus.parse(data.get(name, "NOT_ENROLLED"))

        return cls(
            overall=status("overallStatus"),
            totp=status("totpStatus"),
            webauthn=status("webAuthnStatus"),
            push=status("pushStatus"),
            jc_go=status("jcGoStatus"),
            sms=status("smsStatus"),
        )


@dataclass(frozen=True)
class SystemUser:
    """A V1 system user (``systemuserreturn``)."""

    id: str
    username: str
    email: str
    state: UserState | None = None
    firstname: str = ""
    lastname: str = ""
    alternate_email: str = ""
    activated: bool = False
    suspended: bool = False
    account_locked: bool = False
    password_expired: bool = False
    enable_user_portal_multifactor: bool = False
    totp_enabled: bool = False
    mfa: Mfa = field(default_factory=Mfa)
    mfa_enrollment: MfaEnrollment = field(default_factory=MfaEnrollment)
    organization: str = ""
    created: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SystemUser:
        state = data.get("state")
        return cls(
            id=str(data.get("_id") or data.get("id") or ""),
            username=str(data.get("username", "")),
            email=str(data.get("email", "")),
            state=UserState(state)
            if isinstance(state, str) and state in UserState.__members__
            else None,
            firstname=str(data.get("firstname") or ""),
            lastname=str(data.get("lastname") or ""),
            alternate_email=str(data.get("alternateEmail") or ""),
            activated=bool(data.get("activated", False)),
            suspended=bool(data.get("suspended", False)),
            account_locked=bool(data.get("account_locked", False)),
            password_expired=bool(data.get("password_expired", False)),
            enable_user_portal_multifactor=bool(data.get("enable_user_portal_multifactor", False)),
            totp_enabled=bool(data.get("totp_enabled", False)),
            mfa=Mfa.from_json(data.get("mfa")),
            mfa_enrollment=MfaEnrollment.from_json(data.get("mfaEnrollment")),
            organization=str(data.get("organization") or ""),
            created=parse_time(data.get("created")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class UserPage:
    """One page of a V1 list: ``{"totalCount": n, "results": [...]}``."""

    total_count: int
    results: list[SystemUser]


@dataclass(frozen=True)
class Organization:
    id: str
    display_name: str
    settings: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Organization:
        settings = data.get("settings")
        return cls(
            id=str(data.get("_id") or data.get("id") or ""),
            display_name=str(data.get("displayName") or ""),
            settings=settings if isinstance(settings, dict) else {},
            raw=dict(data),
        )


@dataclass(frozen=True)
class TotpFactor:
    """The org-wide TOTP switch ("MFA Configurations")."""

    enabled: bool
    read_only: bool = False


@dataclass(frozen=True)
class ScheduledStateChange:
    """A V2 scheduled activation/suspension (``scheduled-userstate-result``)."""

    job_id: str
    user_id: str
    state: UserState | None
    scheduled_date: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScheduledStateChange:
        state = data.get("state")
        return cls(
            job_id=str(data.get("scheduledJobId", "")),
            user_id=str(data.get("systemUserId", "")),
            state=UserState(state)
            if isinstance(state, str) and state in UserState.__members__
            else None,
            scheduled_date=parse_time(data.get("scheduledDate")),
        )
