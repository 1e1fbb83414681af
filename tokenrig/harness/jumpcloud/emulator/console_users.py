"""System-user records over the console API: create, read, update and delete
(``/api/systemusers[/{id}]``), with the state/suspended, grace-period and manager rules.

A PUT body is the ``systemuserput`` shape, so what a GET returns (less the read-only fields)
can be written back unchanged. ``manager`` names another user of the same org by id; deleting
a manager is refused with 409 unless ``cascade_manager=null`` clears it on the direct reports
first (the spec's two outcomes), so no user ever names a manager that does not exist.
"""

from __future__ import annotations

from typing import Any

from tokenrig.harness.jumpcloud.emulator.console_api import ID, ConsoleRoutes
from tokenrig.harness.jumpcloud.emulator.listing import project
from tokenrig.harness.jumpcloud.emulator.models import (
    DEFAULT_ENROLLMENT_DAYS,
    EmulatorError,
    EmulatorState,
    MailKind,
    Organization,
    SystemUser,
    new_object_id,
    parse_iso_time,
)
from tokenrig.harness.jumpcloud.emulator.server import Request, Response, json_response
from tokenrig.harness.jumpcloud.emulator.user_schema import (
    BEHAVIOUR_FIELDS,
    check_body,
    check_email,
    check_password_policy,
    check_username,
    user_to_api,
)
from tokenrig.harness.jumpcloud.objects import UserState

CASCADE_CLEAR = "null"
"""The one ``cascade_manager`` value the spec describes: clear the reports' manager."""


def _conflict_message(state: str, suspended: bool) -> str:
    return (
        "Cannot save conflicting state and suspended fields."
        f" (state={state} suspended={str(suspended).lower()})"
    )


def resolve_state(body: dict[str, Any], current: UserState | None, default: str) -> UserState:
    """The state a POST/PUT leads to, refusing a ``state``/``suspended`` pair that disagrees."""
    if "state" in body:
        state = UserState(body["state"])
        if "suspended" in body and body["suspended"] != (state is UserState.SUSPENDED):
            raise EmulatorError(_conflict_message(state, body["suspended"]))
        return state
    if "suspended" in body:
        if body["suspended"]:
            return UserState.SUSPENDED
        if current is UserState.SUSPENDED:
            return UserState.ACTIVATED
    return current if current is not None else UserState(default)


def exclusion_of(
    body: dict[str, Any], user: SystemUser | None
) -> tuple[bool, int | None, float | None]:
    """``mfa.exclusion``/``exclusionDays``/``exclusionUntil`` of a body (the user's as default)."""
    mfa = body.get("mfa", {})
    exclusion = mfa.get("exclusion", user.mfa_exclusion if user else False)
    days = mfa.get("exclusionDays")
    until = parse_iso_time(mfa["exclusionUntil"]) if mfa.get("exclusionUntil") else None
    return bool(exclusion), days, until


def check_manager(
    state: EmulatorState, org: Organization, body: dict[str, Any], user: SystemUser | None
) -> None:
    """``manager`` is empty or the id of another user of the same org (never a dangling id)."""
    manager = body.get("manager")
    if not manager:
        return
    other = state.users.get(manager)
    if other is None or other.org_id != org.id or (user is not None and other.id == user.id):
        raise EmulatorError(
            "Bad Request: field 'manager' must be the id of another user of this organization"
        )


def direct_reports(state: EmulatorState, org: Organization, user: SystemUser) -> list[SystemUser]:
    return [other for other in state.users_of(org) if other.profile.get("manager") == user.id]


def register(routes: ConsoleRoutes) -> None:
    """Register POST/GET/PUT/DELETE of ``/api/systemusers[/{id}]``."""
    state = routes.state

    def full_details(request: Request) -> bool:
        return request.query_one("fullValidationDetails") == "password"

    def create_user(request: Request, org: Organization) -> Response:
        body = check_body(request.json_object(), for_put=False)
        for name in ("username", "email"):
            if not body.get(name):
                raise EmulatorError(f"Bad Request: {name} is required")
        check_username(body["username"])
        check_email(body["email"])
        if body.get("alternateEmail"):
            check_email(body["alternateEmail"], "alternateEmail")
        if "state" in body and body["state"] not in ("STAGED", "ACTIVATED", "SUSPENDED"):
            raise EmulatorError("Bad Request: state must be STAGED, ACTIVATED or SUSPENDED")
        if body.get("password") is not None:
            check_password_policy(body["password"], full_details(request))
        check_manager(state, org, body, None)
        default = org.settings.get("newSystemUserStateDefaults", {}).get("manualEntry", "ACTIVATED")
        user_state = resolve_state(body, None, default)
        state.check_unique(
            org,
            None,
            username=body["username"],
            email=body["email"],
            employeeIdentifier=body.get("employeeIdentifier", ""),
        )
        user = SystemUser(
            id=new_object_id(state.now()),
            org_id=org.id,
            username=body["username"],
            email=body["email"],
            created=state.now(),
            firstname=body.get("firstname", ""),
            lastname=body.get("lastname", ""),
            alternate_email=body.get("alternateEmail", ""),
            account_locked=body.get("account_locked", False),
            profile={k: v for k, v in body.items() if k not in BEHAVIOUR_FIELDS},
        )
        user.state = user_state
        user.suspended = user_state is UserState.SUSPENDED
        if body.get("password"):
            state.set_password(user, body["password"])
        if "recoveryEmail" in body:
            user.profile["recoveryEmail"] = body["recoveryEmail"]
        if body.get("enable_user_portal_multifactor"):
            user.enable_user_portal_multifactor = True
            exclusion, days, until = exclusion_of(body, None)
            if exclusion and until is None and user_state is UserState.STAGED:
                # Counted from activation (INFERRED); default 7 days.
                user.mfa_exclusion = True
                user.mfa_exclusion_days = days or DEFAULT_ENROLLMENT_DAYS
            else:
                state.start_enrollment_period(user, exclusion=exclusion, days=days, until=until)
        if "unix_uid" not in body or "unix_guid" not in body:
            user.profile.setdefault("unix_uid", org.next_unix_id)
            user.profile.setdefault("unix_guid", org.next_unix_id)
            org.next_unix_id += 1
        state.add_user(user)
        if user_state is UserState.ACTIVATED:
            # INFERRED: creating an active user mails them like state/activate does.
            kind = MailKind.WELCOME if user.activated else MailKind.ACTIVATION
            state.notify(kind, user, user.email if user.activated else None)
        return json_response(user_to_api(state, user))

    def get_user(request: Request, org: Organization) -> Response:
        data = user_to_api(state, routes.find_user(request, org))
        return json_response(project(data, request.query_one("fields", "") or ""))

    def update_user(request: Request, org: Organization) -> Response:
        user = routes.find_user(request, org)
        body = check_body(request.json_object(), for_put=True)
        # Validate everything first, so a refused PUT changes nothing.
        if "username" in body:
            check_username(body["username"])
        if "email" in body:
            check_email(body["email"])
        if body.get("alternateEmail"):
            check_email(body["alternateEmail"], "alternateEmail")
        if "state" in body and body["state"] not in ("ACTIVATED", "SUSPENDED"):
            raise EmulatorError("Bad Request: state must be ACTIVATED or SUSPENDED")
        if body.get("password") is not None:
            check_password_policy(body["password"], full_details(request))
        check_manager(state, org, body, user)
        new_state = resolve_state(body, user.state, str(user.state))
        state.check_unique(
            org,
            user,
            username=body.get("username", ""),
            email=body.get("email", ""),
            employeeIdentifier=body.get("employeeIdentifier", ""),
        )
        user.username = body.get("username", user.username)
        user.email = body.get("email", user.email)
        user.firstname = body.get("firstname", user.firstname)
        user.lastname = body.get("lastname", user.lastname)
        user.alternate_email = body.get("alternateEmail", user.alternate_email)
        if body.get("password"):
            state.set_password(user, body["password"])
        if "account_locked" in body:
            if body["account_locked"]:
                user.account_locked = True
                user.account_locked_date = user.account_locked_date or state.now()
            elif user.account_locked:
                state.unlock(user)
        if new_state is not user.state:
            state.set_state(user, new_state)
        user.profile.update({k: v for k, v in body.items() if k not in BEHAVIOUR_FIELDS})
        _update_mfa(user, body)
        return json_response(user_to_api(state, user))

    def _update_mfa(user: SystemUser, body: dict[str, Any]) -> None:
        required = body.get("enable_user_portal_multifactor", user.enable_user_portal_multifactor)
        was_required = user.enable_user_portal_multifactor
        user.enable_user_portal_multifactor = required
        if not required:
            # Turning the requirement off clears the grace period (JumpCloud's own tests).
            user.mfa_exclusion = False
            user.mfa_exclusion_days = None
            user.mfa_exclusion_until = None
            return
        if "mfa" in body or not was_required:
            exclusion, days, until = exclusion_of(body, user)
            state.start_enrollment_period(user, exclusion=exclusion, days=days, until=until)
        if not was_required and user.activated and not user.totp_enabled:
            state.notify(MailKind.MFA_ENABLED, user)

    def delete_user(request: Request, org: Organization) -> Response:
        user = routes.find_user(request, org)
        cascade = request.query_one("cascade_manager")
        if cascade is not None and cascade != CASCADE_CLEAR:
            raise EmulatorError(
                "Bad Request: query parameter 'cascade_manager' supports only the value 'null'"
                " (clear the manager of the user's direct reports)"
            )
        reports = direct_reports(state, org, user)
        if reports and cascade is None:
            raise EmulatorError(
                f"Conflict: the user is the manager of {len(reports)} user(s); delete with"
                " cascade_manager=null to clear their manager first",
                409,
            )
        for report in reports:
            report.profile["manager"] = ""
        data = user_to_api(state, user)
        state.delete_user(org, user.id)
        return json_response(data)

    routes.add("POST", r"/api/systemusers", create_user)
    routes.add("GET", rf"/api/systemusers/{ID}", get_user)
    routes.add("PUT", rf"/api/systemusers/{ID}", update_user)
    routes.add("DELETE", rf"/api/systemusers/{ID}", delete_user)
