"""The ``settings`` object of ``PUT /api/organizations/{id}``, checked against the
``organizationsettingsput`` schema of JumpCloud's V1 spec, nested objects included.

The schema below is transcribed from that spec (types, enums, bounds, required members) so the
emulator needs no spec file at run time. A value the spec does not allow -- a null (Swagger 2.0
has no nullable here), a wrong type, an unknown member, an out-of-range number, a
``trustedAppConfig`` without its required ``trustedApps`` -- is a 400 naming the dotted path of
the setting, so nothing is stored that a GET could not answer in the spec's shape.

Emulator choices (the spec is silent): ``lockoutTimeInSeconds`` is held to 300..5400 (the
console's range), and a stored ``trustedAppConfig`` gets the ``checksum`` the GET schema
requires, computed here; a ``checksum`` sent back from a GET is accepted and replaced.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tokenrig.harness.jumpcloud.emulator.models import EmulatorError

Schema = dict[str, Any]

_BOOL: Schema = {"type": "boolean"}
_STR: Schema = {"type": "string"}
_INT: Schema = {"type": "integer"}
_STATE: Schema = {"type": "string", "enum": ["ACTIVATED", "STAGED"]}


def _obj(properties: dict[str, Schema], **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, **extra}


_PASSWORD_POLICY = _obj(
    {
        "allowUnenrolledMFAPasswordReset": _BOOL,
        "allowUsernameSubstring": _BOOL,
        "daysAfterExpirationToSelfRecover": _INT,
        "daysBeforeExpirationToForceReset": {"type": "integer", "minimum": 1},
        "disallowCommonlyUsedPasswords": _BOOL,
        "disallowSequentialOrRepetitiveChars": _BOOL,
        "displayComplexityOnResetScreen": _BOOL,
        "effectiveDate": _STR,
        "enableDaysAfterExpirationToSelfRecover": _BOOL,
        "enableDaysBeforeExpirationToForceReset": _BOOL,
        "enableLockoutTimeInSeconds": _BOOL,
        "enableMaxHistory": _BOOL,
        "enableMaxLoginAttempts": _BOOL,
        "enableMinChangePeriodInDays": _BOOL,
        "enableMinLength": _BOOL,
        "enablePasswordExpirationInDays": _BOOL,
        "gracePeriodDate": _STR,
        "lockoutTimeInSeconds": {"type": "integer", "minimum": 300, "maximum": 5400},
        "maxHistory": {"type": "integer", "minimum": 1, "maximum": 24},
        "maxLoginAttempts": {"type": "integer", "minimum": 1},
        "minChangePeriodInDays": _INT,
        "minLength": _INT,
        "needsLowercase": _BOOL,
        "needsNumeric": _BOOL,
        "needsSymbolic": _BOOL,
        "needsUppercase": _BOOL,
        "passwordExpirationInDays": {"type": "integer", "minimum": 1},
    }
)

_RESTRICTED_FIELD = _obj(
    {
        "field": {
            "type": "string",
            "maxLength": 32,
            "enum": [
                "addresses",
                "company",
                "costCenter",
                "department",
                "description",
                "displayname",
                "email",
                "employeeIdentifier",
                "employeeType",
                "firstname",
                "jobTitle",
                "lastname",
                "location",
                "middlename",
                "password",
                "phoneNumbers",
                "sudo",
                "username",
            ],
        },
        "id": {"type": "string", "maxLength": 24},
        "type": {
            "type": "string",
            "maxLength": 128,
            "enum": ["active_directory", "federated_identity_provider", "scim"],
        },
    }
)

_TRUSTED_APP = _obj({"name": _STR, "path": _STR, "teamid": _STR}, required=["name"])

SETTINGS_SCHEMA: Schema = _obj(
    {
        "contactEmail": _STR,
        "contactName": _STR,
        "deviceIdentificationEnabled": _BOOL,
        "disableGoogleLogin": _BOOL,
        "disableLdap": _BOOL,
        "disableUM": _BOOL,
        "duplicateLDAPGroups": _BOOL,
        "emailDisclaimer": _STR,
        "enableManagedUID": _BOOL,
        "features": _obj(
            {
                "directoryInsights": _obj({"enabled": _BOOL}),
                "directoryInsightsPremium": _obj(
                    {"createdAt": _STR, "enabled": _BOOL, "updatedAt": _STR}
                ),
                "systemInsights": _obj(
                    {
                        "createdAt": _STR,
                        "enableNewDarwin": _BOOL,
                        "enableNewLinux": _BOOL,
                        "enableNewWindows": _BOOL,
                        "enabled": _BOOL,
                        "updatedAt": _STR,
                    }
                ),
            }
        ),
        "growthData": {"type": "object", "additionalProperties": True},
        "logo": _STR,
        "maxSystemUsers": {"type": "integer", "minimum": 0},
        "name": _STR,
        "newSystemUserStateDefaults": _obj(
            {"applicationImport": _STATE, "csvImport": _STATE, "manualEntry": _STATE}
        ),
        "passwordCompliance": {"type": "string", "enum": ["custom", "pci3", "windows"]},
        "passwordPolicy": _PASSWORD_POLICY,
        "showIntro": _BOOL,
        "systemUserDefaults": _obj(
            {"restrictedFields": {"type": "array", "items": _RESTRICTED_FIELD}}
        ),
        "systemUserPasswordExpirationInDays": _INT,
        "systemUsersCanEdit": _BOOL,
        "trustedAppConfig": _obj(
            {
                "trustedApps": {"type": "array", "minItems": 1, "items": _TRUSTED_APP},
                "checksum": _STR,  # the GET shape written back; replaced on store
            },
            required=["trustedApps"],
        ),
        "userPortal": _obj(
            {
                "cookieExpirationType": {"type": "string", "enum": ["session", "date"]},
                "idleSessionDurationMinutes": {"type": "integer", "minimum": 1, "maximum": 129600},
            }
        ),
    }
)
"""``organizationsettingsput`` (V1 spec), with the two emulator choices of the docstring."""

_TYPE_OK = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _refuse(path: str, problem: str) -> EmulatorError:
    return EmulatorError(f"Bad Request: setting {path!r} {problem}")


def check_value(schema: Schema, value: Any, path: str) -> None:
    """Raise a 400 naming ``path`` when ``value`` does not fit ``schema``."""
    kind = schema["type"]
    if value is None:
        raise _refuse(path, "must not be null")
    if not _TYPE_OK[kind](value):
        raise _refuse(path, f"must be of type {kind}")
    if "enum" in schema and value not in schema["enum"]:
        raise _refuse(path, f"must be one of {', '.join(schema['enum'])}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise _refuse(path, f"is longer than {schema['maxLength']} characters")
    if "minimum" in schema and value < schema["minimum"]:
        raise _refuse(path, f"must be >= {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        raise _refuse(path, f"must be <= {schema['maximum']}")
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            raise _refuse(path, f"needs at least {schema['minItems']} item(s)")
        for index, item in enumerate(value):
            check_value(schema["items"], item, f"{path}[{index}]")
    if kind == "object" and "properties" in schema:
        for name in schema.get("required", []):
            if name not in value:
                raise _refuse(f"{path}.{name}", "is required")
        for name, item in value.items():
            member = schema["properties"].get(name)
            if member is None:
                raise EmulatorError(f"Bad Request: unknown organization setting '{path}.{name}'")
            check_value(member, item, f"{path}.{name}")


def check_settings(settings: dict[str, Any]) -> None:
    """Validate a PUT's ``settings`` object member by member (top level named bare)."""
    for name, value in settings.items():
        member = SETTINGS_SCHEMA["properties"].get(name)
        if member is None:
            raise EmulatorError(f"Bad Request: unknown organization setting {name!r}")
        check_value(member, value, name)


def trusted_app_checksum(config: dict[str, Any]) -> str:
    """The ``checksum`` a stored ``trustedAppConfig`` carries (SHA-256 of its app list)."""
    canonical = json.dumps(config.get("trustedApps", []), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def merge_settings(current: dict[str, Any], changes: dict[str, Any]) -> None:
    """Apply checked ``changes``: nested objects merge member by member, except
    ``trustedAppConfig``, which is replaced whole and given its checksum."""
    for key, value in changes.items():
        if key == "trustedAppConfig":
            apps = [dict(app) for app in value["trustedApps"]]
            config = {"trustedApps": apps}
            current[key] = {**config, "checksum": trusted_app_checksum(config)}
            continue
        existing = current.get(key)
        if isinstance(value, dict) and isinstance(existing, dict):
            current[key] = {**existing, **value}
        else:
            current[key] = value
