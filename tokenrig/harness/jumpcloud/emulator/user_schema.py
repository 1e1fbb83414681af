"""The system-user body the console API accepts and returns, checked field by field.

The field table mirrors ``systemuserputpost`` / ``systemuserput`` / ``systemuserreturn`` of
JumpCloud's V1 spec (a test compares it with the spec copy when that is present). The emulator
is strict where the real service is silent: an unknown field or a wrong type is a 400 naming the
field, so a client typo fails here instead of being ignored live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tokenrig.harness.jumpcloud.emulator.models import (
    EmulatorError,
    EmulatorState,
    SystemUser,
    iso_time,
    parse_iso_time,
)

STRING, BOOL, INT, OBJECT, ARRAY = "string", "boolean", "integer", "object", "array"
DATETIME = "date-time string"
"""Also the type name error messages show (JumpCloud's spec: ``format: date-time``)."""


@dataclass(frozen=True)
class Field:
    kind: str
    max_length: int | None = None
    post: bool = True
    put: bool = True
    nullable: bool = False
    put_kind: str | None = None
    """The type a PUT body has when it differs from a POST's (``systemuserput`` vs
    ``systemuserputpost``)."""


_TEXT = Field(STRING, 1024)
USER_FIELDS: dict[str, Field] = {
    "account_locked": Field(BOOL),
    "activated": Field(BOOL, put=False),
    "addresses": Field(ARRAY),
    "allow_public_key": Field(BOOL),
    "alternateEmail": _TEXT,
    "attributes": Field(ARRAY),
    "company": _TEXT,
    "costCenter": _TEXT,
    "delegatedAuthority": Field(OBJECT, nullable=True),
    "department": _TEXT,
    "description": _TEXT,
    "disableDeviceMaxLoginAttempts": Field(BOOL),
    "displayname": _TEXT,
    "email": _TEXT,
    "employeeIdentifier": Field(STRING, 256),
    "employeeType": _TEXT,
    "enable_managed_uid": Field(BOOL),
    "enable_user_portal_multifactor": Field(BOOL),
    "external_dn": _TEXT,
    # POST: a date-time; PUT and GET: a plain string, "" when unset, so a GET writes back.
    "external_password_expiration_date": Field(DATETIME, put_kind=STRING),
    "external_source_type": _TEXT,
    "externally_managed": Field(BOOL),
    "firstname": _TEXT,
    "jobTitle": _TEXT,
    "lastname": _TEXT,
    "ldap_binding_user": Field(BOOL),
    "location": _TEXT,
    "managedAppleId": _TEXT,
    "manager": _TEXT,
    "mfa": Field(OBJECT),
    "middlename": _TEXT,
    "password": Field(STRING, 1024),
    "password_never_expires": Field(BOOL),
    "passwordless_sudo": Field(BOOL, put=False),
    "phoneNumbers": Field(ARRAY),
    "public_key": Field(STRING, 16384),
    "recoveryEmail": Field(OBJECT, put=False),
    "relationships": Field(ARRAY),
    "restrictedFields": Field(ARRAY),
    "samba_service_user": Field(BOOL),
    "ssh_keys": Field(ARRAY, post=False),
    "state": Field(STRING),
    "sudo": Field(BOOL),
    "suspended": Field(BOOL),
    "unix_guid": Field(INT),
    "unix_uid": Field(INT),
    "username": _TEXT,
}
"""Writable fields. Typed ones (username, email, state, MFA...) have behaviour in the models;
the rest are stored verbatim in ``SystemUser.profile``."""

BEHAVIOUR_FIELDS = frozenset(
    {
        "username",
        "email",
        "firstname",
        "lastname",
        "alternateEmail",
        "password",
        "state",
        "suspended",
        "activated",
        "account_locked",
        "enable_user_portal_multifactor",
        "mfa",
    }
)

MFA_FIELDS = {
    "configured": BOOL,
    "exclusion": BOOL,
    "exclusionDays": INT,
    "exclusionUntil": DATETIME,
}

USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,29}")
"""Starts with a letter, Unix-safe characters, at most 30 (JumpCloud's Mac/Linux limit)."""
EMAIL = re.compile(r"[^@\s\"<>()\[\]\\,;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
MIN_PASSWORD = 8


def _type_ok(kind: str, value: Any) -> bool:
    if kind in (STRING, DATETIME):
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == OBJECT:
        return isinstance(value, dict)
    return isinstance(value, list)


def check_body(body: dict[str, Any], *, for_put: bool) -> dict[str, Any]:
    """Validate a POST/PUT body's field names, types and lengths; return it unchanged."""
    for name, value in body.items():
        spec = USER_FIELDS.get(name)
        if spec is None or (for_put and not spec.put) or (not for_put and not spec.post):
            raise EmulatorError(f"Bad Request: unknown or read-only field {name!r}")
        if value is None and spec.nullable:
            continue
        if name in ("unix_uid", "unix_guid") and isinstance(value, str) and value.isdigit():
            body[name] = value = int(value)  # JumpCloud turns numeric strings into numbers
        kind = spec.put_kind if for_put and spec.put_kind else spec.kind
        if not _type_ok(kind, value):
            raise EmulatorError(f"Bad Request: field {name!r} must be of type {kind}")
        if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
            raise EmulatorError(f"Bad Request: field {name!r} is longer than {spec.max_length}")
        if kind == DATETIME:
            _check_time(name, value)
        if spec.kind == INT and value < 1:
            raise EmulatorError(f"Bad Request: field {name!r} must be >= 1")
        if spec.kind == ARRAY and any(not isinstance(item, dict) for item in value):
            raise EmulatorError(f"Bad Request: items of {name!r} must be objects")
    if "mfa" in body:
        check_mfa(body["mfa"])
    return body


def _check_time(name: str, value: str) -> None:
    try:
        parse_iso_time(value)
    except EmulatorError:
        raise EmulatorError(f"Bad Request: field {name!r} must be an ISO 8601 date-time") from None


def check_mfa(mfa: dict[str, Any]) -> None:
    for name, value in mfa.items():
        kind = MFA_FIELDS.get(name)
        if kind is None:
            raise EmulatorError(f"Bad Request: unknown field 'mfa.{name}'")
        if name == "exclusionDays" and isinstance(value, str) and value.isdigit():
            mfa[name] = value = int(value)  # JumpCloud's PowerShell module sends a string
        if not _type_ok(kind, value):
            raise EmulatorError(f"Bad Request: field 'mfa.{name}' must be of type {kind}")
        if kind == DATETIME:
            _check_time(f"mfa.{name}", value)
        if name == "exclusionDays" and not 1 <= value <= 365:
            raise EmulatorError("Bad Request: field 'mfa.exclusionDays' must be 1..365")


def check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise EmulatorError(
            "Bad Request: username must start with a letter, contain only letters, digits,"
            " '.', '_' or '-', and be at most 30 characters"
        )


def check_email(email: str, field: str = "email") -> None:
    if not EMAIL.fullmatch(email):
        raise EmulatorError(f"Bad Request: {field} is not a valid email address")


def check_password_policy(password: str, full_details: bool) -> None:
    """A stand-in password policy: at least 8 characters with a letter and a digit."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append("minLength")
    if not any(c.isalpha() for c in password):
        problems.append("alphabetic")
    if not any(c.isdigit() for c in password):
        problems.append("numeric")
    if problems:
        if full_details:
            raise PasswordPolicyError(problems)
        raise EmulatorError("Password validation fail")


class PasswordPolicyError(EmulatorError):
    """``?fullValidationDetails=password``: the google.rpc-style detailed 400."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Password validation fail", 400)
        self.problems = problems

    def to_json(self) -> dict[str, Any]:
        return {
            "code": 400,
            "message": self.message,
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolationsList": [
                        {"field": "password", "description": problem} for problem in self.problems
                    ],
                }
            ],
        }


RETURN_ONLY_FIELDS = frozenset(
    {
        "_id",
        "organization",
        "activated",
        "account_locked_date",
        "badLoginAttempts",
        "created",
        "creationSource",
        "password_date",
        "password_expiration_date",
        "password_expired",
        "totp_enabled",
        "mfaEnrollment",
        "admin",
        "delegatedAuthority",
        "restrictedFields",
    }
)
"""Fields :func:`user_to_api` returns that a POST/PUT cannot set (for ``sort`` checks)."""


def user_to_api(state: EmulatorState, user: SystemUser) -> dict[str, Any]:
    """The ``systemuserreturn`` shape (every field the spec lists, none it does not)."""
    totp = state.totp_status(user)
    data: dict[str, Any] = {
        "addresses": [],
        "attributes": [],
        "phoneNumbers": [],
        "relationships": [],
        "restrictedFields": [],
        "ssh_keys": [],
        "allow_public_key": True,
        "enable_managed_uid": False,
        "ldap_binding_user": False,
        "passwordless_sudo": False,
        "password_never_expires": False,
        "samba_service_user": False,
        "sudo": False,
        "externally_managed": False,
        "disableDeviceMaxLoginAttempts": False,
        "description": "",
        "displayname": "",
        "middlename": "",
        "company": "",
        "department": "",
        "jobTitle": "",
        "location": "",
        "costCenter": "",
        "employeeType": "",
        "employeeIdentifier": "",
        "managedAppleId": "",
        "public_key": "",
        "external_dn": "",
        "external_source_type": "",
        "external_password_expiration_date": "",
        "manager": "",
    }
    data.update({k: v for k, v in user.profile.items() if k not in ("mfa", "password")})
    data.update(
        {
            "_id": user.id,
            "organization": user.org_id,
            "username": user.username,
            "email": user.email,
            "firstname": user.firstname,
            "lastname": user.lastname,
            "alternateEmail": user.alternate_email,
            "state": str(user.state),
            "suspended": user.suspended,
            "activated": user.activated,
            "account_locked": user.account_locked,
            "account_locked_date": (
                iso_time(user.account_locked_date) if user.account_locked_date else None
            ),
            "badLoginAttempts": user.bad_login_attempts,
            "created": iso_time(user.created),
            "creationSource": "manual",
            "password_date": iso_time(user.password_date) if user.password_date else None,
            "password_expiration_date": None,
            "password_expired": user.password_expired,
            "enable_user_portal_multifactor": user.enable_user_portal_multifactor,
            "totp_enabled": user.totp_enabled,
            "mfa": user.mfa_json(),
            "mfaEnrollment": {
                "overallStatus": str(totp),
                "totpStatus": str(totp),
                "webAuthnStatus": "NOT_ENROLLED",
                "pushStatus": "NOT_ENROLLED",
                "jcGoStatus": "NOT_ENROLLED",
                "smsStatus": "NOT_ENROLLED",
            },
            "admin": None,
            "delegatedAuthority": user.profile.get("delegatedAuthority"),
            "recoveryEmail": {
                "address": user.profile.get("recoveryEmail", {}).get("address", ""),
                "verified": False,
            },
        }
    )
    return data


check_password = check_password_policy
"""Former name, kept because the portal module imports it."""
