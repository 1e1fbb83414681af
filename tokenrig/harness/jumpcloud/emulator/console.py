"""The console API: every V1/V2 call :mod:`tokenrig.harness.jumpcloud.client` makes, answered with
the
real service's status codes and bodies (shared facts: JumpCloud's V1/V2 specs).

Handlers parse and validate the request, then call the models under ``state.lock``; the list
and search handlers hold it only to copy the records, and filter, sort and page the copies.
Choices the public sources leave open are marked INFERRED and listed in ``docs/jumpcloud.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tokenrig.harness.jumpcloud.emulator.listing import (
    MAX_PAGE,
    MAX_SEARCH_PAGE,
    filters_from_query,
    object_filter,
    parse_count,
    project,
    search_term_filter,
    sort_records,
)
from tokenrig.harness.jumpcloud.emulator.models import (
    DEFAULT_ENROLLMENT_DAYS,
    EmulatorError,
    EmulatorState,
    MailKind,
    Organization,
    ScheduledStateChange,
    SystemUser,
    iso_time,
    new_object_id,
    parse_iso_time,
)
from tokenrig.harness.jumpcloud.emulator.server import (
    OBJECT_ID,
    Request,
    Response,
    Router,
    empty,
    json_response,
)
from tokenrig.harness.jumpcloud.emulator.user_schema import (
    BEHAVIOUR_FIELDS,
    RETURN_ONLY_FIELDS,
    USER_FIELDS,
    PasswordPolicyError,
    check_body,
    check_email,
    check_mfa,
    check_password_policy,
    check_username,
    user_to_api,
)
from tokenrig.harness.jumpcloud.objects import UserState

ID = r"(?P<id>[^/]+)"
SORTABLE = frozenset(USER_FIELDS) | RETURN_ONLY_FIELDS
ORG_SETTINGS_TYPES: dict[str, type | tuple[type, ...]] = {
    "contactEmail": str,
    "contactName": str,
    "deviceIdentificationEnabled": bool,
    "disableGoogleLogin": bool,
    "disableLdap": bool,
    "disableUM": bool,
    "duplicateLDAPGroups": bool,
    "emailDisclaimer": str,
    "enableManagedUID": bool,
    "features": dict,
    "growthData": dict,
    "logo": str,
    "maxSystemUsers": int,
    "name": str,
    "newSystemUserStateDefaults": dict,
    "passwordCompliance": str,
    "passwordPolicy": dict,
    "requireAdminMFA": bool,
    "showIntro": bool,
    "systemUserDefaults": dict,
    "systemUserPasswordExpirationInDays": int,
    "systemUsersCanEdit": bool,
    "trustedAppConfig": dict,
    "userPortal": dict,
}


def _user_id(request: Request) -> str:
    user_id = request.params["id"]
    if not OBJECT_ID.fullmatch(user_id):
        raise EmulatorError("Bad Request: invalid id (expected 24 hexadecimal characters)")
    return user_id


def _conflict_message(state: str, suspended: bool) -> str:
    return (
        "Cannot save conflicting state and suspended fields."
        f" (state={state} suspended={str(suspended).lower()})"
    )


def _resolve_state(body: dict[str, Any], current: UserState | None, default: str) -> UserState:
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


def _exclusion(
    body: dict[str, Any], user: SystemUser | None
) -> tuple[bool, int | None, float | None]:
    mfa = body.get("mfa", {})
    exclusion = mfa.get("exclusion", user.mfa_exclusion if user else False)
    days = mfa.get("exclusionDays")
    until = parse_iso_time(mfa["exclusionUntil"]) if mfa.get("exclusionUntil") else None
    return bool(exclusion), days, until


def register(router: Router, state: EmulatorState) -> None:
    """Register the console API routes (all need the API key)."""

    def api(handler: Callable[[Request, Organization], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            org = request.require_org()
            try:
                with state.lock:
                    state.run_due_state_changes()
                    return handler(request, org)
            except PasswordPolicyError as exc:
                return json_response(exc.to_json(), 400)

        return run

    def add(method: str, path: str, handler: Callable[[Request, Organization], Response]) -> None:
        router.add(method, path, api(handler), auth=True)

    def add_listing(
        method: str, path: str, handler: Callable[[Request, Organization], Response]
    ) -> None:
        """A list/search route: it takes ``state.lock`` itself, only to copy the records, and
        filters outside it, so a slow filter never stalls the other requests."""
        router.add(method, path, lambda request: handler(request, request.require_org()), auth=True)

    def user_records(org: Organization) -> list[dict[str, Any]]:
        """The org's users in the API shape, built under the lock and safe to read after it:
        ``user_to_api`` makes new dicts, and the nested values it shares with a user's
        profile are replaced on update, never changed in place. (A deep copy here cost the
        load benchmark a third of its throughput.)"""
        with state.lock:
            state.run_due_state_changes()
            return [user_to_api(state, u) for u in state.users_of(org)]

    def find_user(request: Request, org: Organization) -> SystemUser:
        return state.get_user(org, _user_id(request))

    def full_details(request: Request) -> bool:
        return request.query_one("fullValidationDetails") == "password"

    # -- system users ------------------------------------------------------------------------
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
        default = org.settings.get("newSystemUserStateDefaults", {}).get("manualEntry", "ACTIVATED")
        user_state = _resolve_state(body, None, default)
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
            exclusion, days, until = _exclusion(body, None)
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
        data = user_to_api(state, find_user(request, org))
        return json_response(project(data, request.query_one("fields", "") or ""))

    def update_user(request: Request, org: Organization) -> Response:
        user = find_user(request, org)
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
        new_state = _resolve_state(body, user.state, str(user.state))
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
            user.account_locked = body["account_locked"]
            if user.account_locked:
                user.account_locked_date = user.account_locked_date or state.now()
            else:
                _unlock(user)
        if new_state is not user.state:
            state.set_state(user, new_state)
        user.profile.update({k: v for k, v in body.items() if k not in BEHAVIOUR_FIELDS})
        _update_mfa(user, body)
        return json_response(user_to_api(state, user))

    def _unlock(user: SystemUser) -> None:
        user.account_locked = False
        user.account_locked_date = None
        user.bad_login_attempts = 0
        user.totp_failed_attempts = 0

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
            exclusion, days, until = _exclusion(body, user)
            state.start_enrollment_period(user, exclusion=exclusion, days=days, until=until)
        if not was_required and user.activated and not user.totp_enabled:
            state.notify(MailKind.MFA_ENABLED, user)

    def delete_user(request: Request, org: Organization) -> Response:
        user = find_user(request, org)
        data = user_to_api(state, user)
        state.delete_user(org, user.id)
        return json_response(data)

    def list_users(request: Request, org: Organization) -> Response:
        query = request.query
        limit = parse_count(request.query_one("limit"), "limit", 10, MAX_PAGE) or 10
        skip = parse_count(request.query_one("skip"), "skip", 0, None)
        keep = filters_from_query(query)
        records = [r for r in user_records(org) if keep(r)]
        return json_response(_page(request, records, limit, skip))

    def _page(request: Request, records: list[dict[str, Any]], limit: int, skip: int) -> Any:
        sort = request.query_one("sort", "") or ""
        ignore_case = request.query_one("sortIgnoreCase", "") or ""
        if ignore_case:
            sort_records(records, ignore_case, ignore_case=True, known=SORTABLE)
        elif sort:
            sort_records(records, sort, known=SORTABLE)
        fields = request.query_one("fields", "") or ""
        page = [project(r, fields) for r in records[skip : skip + limit]]
        return {"totalCount": len(records), "results": page}

    def search_users(request: Request, org: Organization) -> Response:
        body = request.json_object()
        unknown = set(body) - {"filter", "searchFilter", "fields", "limit", "skip"}
        if unknown:
            raise EmulatorError(f"Bad Request: unknown search field(s) {sorted(unknown)}")
        limit = parse_count(
            body.get("limit", request.query_one("limit")), "limit", 10, MAX_SEARCH_PAGE
        )
        skip = parse_count(body.get("skip", request.query_one("skip")), "skip", 0, None)
        fields = body.get("fields", request.query_one("fields", "")) or ""
        if not isinstance(fields, str):
            raise EmulatorError("Bad Request: 'fields' must be a space-separated string")
        keep = object_filter(body.get("filter"))
        term = search_term_filter(body.get("searchFilter"))
        records = [r for r in user_records(org) if keep(r) and term(r)]
        sort_records(records, request.query_one("sort", "") or "", known=SORTABLE)
        page = [project(r, fields) for r in records[skip : skip + (limit or 10)]]
        return json_response({"totalCount": len(records), "results": page})

    def activate_user(request: Request, org: Organization) -> Response:
        user = find_user(request, org)
        body = request.json_object()
        unknown = set(body) - {"email"}
        if unknown:
            raise EmulatorError(f"Bad Request: unknown field(s) {sorted(unknown)}")
        email = body.get("email", True)
        if isinstance(email, str):
            check_email(email)
        elif not isinstance(email, bool):
            raise EmulatorError("Bad Request: 'email' must be a boolean or an email address")
        state.activate(user, email)
        return empty(200)

    def reactivate(request: Request, org: Organization) -> Response:
        body = request.json_object()
        models = body.get("models")
        if not isinstance(models, list) or not models:
            raise EmulatorError("Bad Request: 'models' must be a non-empty array of {_id}")
        users = []
        for model in models:
            user_id = model.get("_id") if isinstance(model, dict) else None
            if not isinstance(user_id, str) or not OBJECT_ID.fullmatch(user_id):
                raise EmulatorError("Bad Request: every model needs a valid '_id'")
            users.append(state.get_user(org, user_id))
        for user in users:
            kind = MailKind.PASSWORD_RESET if user.activated else MailKind.ACTIVATION
            state.notify(kind, user, user.email if user.activated else None)
        return empty(200)

    def reset_mfa(request: Request, org: Organization) -> Response:
        user = find_user(request, org)
        body = request.json_object()
        if "configured" in body:
            raise EmulatorError("Bad Request: unknown field 'configured'")
        check_mfa(body)
        until = parse_iso_time(body["exclusionUntil"]) if body.get("exclusionUntil") else None
        state.reset_mfa(
            user,
            exclusion=body.get("exclusion", True),
            days=body.get("exclusionDays"),
            until=until,
        )
        return empty(200)

    def totp_info(request: Request, org: Organization) -> Response:
        user = find_user(request, org)
        if user.totp_enrollment_date is None or not user.totp_enabled:
            raise EmulatorError("Not Found: the user has no TOTP enrollment", 404)
        return json_response({"enrollmentDate": iso_time(user.totp_enrollment_date)})

    def unlock_user(request: Request, org: Organization) -> Response:
        _unlock(find_user(request, org))
        return empty(200)

    def expire_password(request: Request, org: Organization) -> Response:
        find_user(request, org).password_expired = True
        return empty(200)

    def mfa_sync(request: Request, org: Organization) -> Response:
        find_user(request, org)  # statuses are always derived, nothing to re-sync
        return empty(200)

    # -- organizations -----------------------------------------------------------------------
    def list_orgs(_: Request, org: Organization) -> Response:
        entry = {"_id": org.id, "displayName": org.display_name, "logoUrl": ""}
        return json_response({"totalCount": 1, "results": [entry]})

    def own_org(request: Request, org: Organization) -> Organization:
        if request.params["id"] != org.id:
            raise EmulatorError("Not Found", 404)
        return org

    def get_org(request: Request, org: Organization) -> Response:
        return json_response(own_org(request, org).to_api())

    def put_org(request: Request, org: Organization) -> Response:
        target = own_org(request, org)
        body = request.json_object()
        if set(body) - {"settings"}:
            raise EmulatorError("Bad Request: only 'settings' can be changed")
        settings = body.get("settings", {})
        if not isinstance(settings, dict):
            raise EmulatorError("Bad Request: 'settings' must be an object")
        _check_settings(settings)
        for key, value in settings.items():
            current = target.settings.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                current.update(value)
            else:
                target.settings[key] = value
        if isinstance(settings.get("name"), str):
            target.display_name = settings["name"]
        return json_response(target.to_api())

    # -- "MFA Configurations": the org-wide TOTP switch (third-party capture, research §3.3) --
    def totp_factor(org: Organization) -> dict[str, Any]:
        return {"type": "totp", "enabled": org.totp_enabled, "id": "", "readOnly": False}

    def get_totp_factor(_: Request, org: Organization) -> Response:
        return json_response(totp_factor(org))

    def put_totp_factor(request: Request, org: Organization) -> Response:
        body = request.json_object()
        if set(body) - {"type", "enabled"} or body.get("type", "totp") != "totp":
            raise EmulatorError('Bad Request: body must be {"type": "totp", "enabled": bool}')
        if not isinstance(body.get("enabled"), bool):
            raise EmulatorError("Bad Request: 'enabled' must be a boolean")
        org.totp_enabled = body["enabled"]
        return json_response(totp_factor(org))

    # -- V2 scheduled user states --------------------------------------------------------------
    def schedule_states(request: Request, org: Organization) -> Response:
        body = request.json_object()
        allowed = {
            "user_ids",
            "state",
            "start_date",
            "send_activation_emails",
            "activation_email_override",
        }
        if set(body) - allowed:
            raise EmulatorError(f"Bad Request: unknown field(s) {sorted(set(body) - allowed)}")
        ids = body.get("user_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise EmulatorError("Bad Request: 'user_ids' must be a non-empty array of ids")
        if body.get("state") not in ("ACTIVATED", "SUSPENDED"):
            raise EmulatorError("Bad Request: 'state' must be ACTIVATED or SUSPENDED")
        if not isinstance(body.get("start_date"), str):
            raise EmulatorError("Bad Request: 'start_date' (date-time) is required")
        at = parse_iso_time(body["start_date"])
        send = body.get("send_activation_emails", True)
        override = body.get("activation_email_override")
        if not isinstance(send, bool):
            raise EmulatorError("Bad Request: 'send_activation_emails' must be a boolean")
        if override is not None:
            if not isinstance(override, str) or len(ids) != 1:
                raise EmulatorError(
                    "Bad Request: 'activation_email_override' needs exactly one user id"
                )
            check_email(override, "activation_email_override")
        for user_id in ids:
            if not OBJECT_ID.fullmatch(user_id):
                raise EmulatorError(f"Bad Request: invalid user id {user_id!r}")
            state.get_user(org, user_id)
        jobs = []
        for user_id in ids:
            job = ScheduledStateChange(
                id=new_object_id(state.now()),
                org_id=org.id,
                user_id=user_id,
                state=UserState(body["state"]),
                at=at,
                send_activation_email=send,
                email_override=override,
            )
            state.scheduled_states[job.id] = job
            jobs.append(job.to_api())
        state.run_due_state_changes()
        return json_response(jobs, 201)

    def list_scheduled(request: Request, org: Organization) -> Response:
        user_id = request.query_one("userid")
        limit = parse_count(request.query_one("limit"), "limit", 10, MAX_PAGE) or 10
        skip = parse_count(request.query_one("skip"), "skip", 0, None)
        jobs = [
            job
            for job in sorted(state.scheduled_states.values(), key=lambda j: j.at)
            if job.org_id == org.id and (user_id is None or job.user_id == user_id)
        ]
        page = [job.to_api() for job in jobs[skip : skip + limit]]
        return json_response(page, headers=[("x-total-count", str(len(jobs)))])

    def delete_scheduled(request: Request, org: Organization) -> Response:
        job = state.scheduled_states.get(request.params["id"])
        if job is None or job.org_id != org.id:
            raise EmulatorError("Not Found", 404)
        del state.scheduled_states[job.id]
        return empty(204)

    add_listing("GET", r"/api/systemusers", list_users)
    add("POST", r"/api/systemusers", create_user)
    add("POST", r"/api/systemusers/reactivate", reactivate)
    add("GET", rf"/api/systemusers/{ID}", get_user)
    add("PUT", rf"/api/systemusers/{ID}", update_user)
    add("DELETE", rf"/api/systemusers/{ID}", delete_user)
    add("POST", rf"/api/systemusers/{ID}/state/activate", activate_user)
    add("POST", rf"/api/systemusers/{ID}/resetmfa", reset_mfa)
    add("GET", rf"/api/systemusers/{ID}/totpinfo", totp_info)
    add("POST", rf"/api/systemusers/{ID}/unlock", unlock_user)
    add("POST", rf"/api/systemusers/{ID}/expire", expire_password)
    add("POST", rf"/api/systemusers/{ID}/mfasync", mfa_sync)
    add_listing("POST", r"/api/search/systemusers", search_users)
    add("GET", r"/api/organizations", list_orgs)
    add("GET", rf"/api/organizations/{ID}", get_org)
    add("PUT", rf"/api/organizations/{ID}", put_org)
    add("GET", r"/api/userportal/mfa/totp", get_totp_factor)
    add("PUT", r"/api/userportal/mfa/totp", put_totp_factor)
    add("POST", r"/api/v2/bulk/userstates", schedule_states)
    add("GET", r"/api/v2/bulk/userstates", list_scheduled)
    add("DELETE", rf"/api/v2/bulk/userstates/{ID}", delete_scheduled)


def _check_settings(settings: dict[str, Any]) -> None:
    for key, value in settings.items():
        kind = ORG_SETTINGS_TYPES.get(key)
        if kind is None:
            raise EmulatorError(f"Bad Request: unknown organization setting {key!r}")
        if isinstance(value, bool) and kind is not bool:
            raise EmulatorError(f"Bad Request: setting {key!r} has the wrong type")
        if not isinstance(value, kind):
            raise EmulatorError(f"Bad Request: setting {key!r} has the wrong type")
    defaults = settings.get("newSystemUserStateDefaults", {})
    for key, value in defaults.items():
        if key not in ("manualEntry", "csvImport", "applicationImport"):
            raise EmulatorError(f"Bad Request: unknown setting 'newSystemUserStateDefaults.{key}'")
        if value not in ("ACTIVATED", "STAGED"):
            raise EmulatorError(
                f"Bad Request: 'newSystemUserStateDefaults.{key}' must be ACTIVATED or STAGED"
            )
    policy = settings.get("passwordPolicy", {})
    attempts = policy.get("maxLoginAttempts")
    if attempts is not None and (
        isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1
    ):
        raise EmulatorError(
            "Bad Request: 'passwordPolicy.maxLoginAttempts' must be an integer >= 1"
        )
    lockout = policy.get("lockoutTimeInSeconds")
    if lockout is not None and (
        isinstance(lockout, bool) or not isinstance(lockout, int) or not 300 <= lockout <= 5400
    ):
        raise EmulatorError("Bad Request: 'passwordPolicy.lockoutTimeInSeconds' must be 300..5400")
