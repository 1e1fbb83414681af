"""The console's user listing and per-user actions: ``GET /systemusers``, ``POST
/search/systemusers``, ``state/activate``, ``reactivate``, ``resetmfa``, ``totpinfo``,
``unlock``, ``expire`` and ``mfasync``.

Kept apart from ``console_users`` (the record itself) because these calls change one
behaviour each (mail, MFA, lock) and never the stored profile.
"""

from __future__ import annotations

from typing import Any

from tokenrig.harness.jumpcloud.emulator.console_api import ID, ConsoleRoutes
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
    EmulatorError,
    MailKind,
    Organization,
    iso_time,
    parse_iso_time,
)
from tokenrig.harness.jumpcloud.emulator.server import (
    OBJECT_ID,
    Request,
    Response,
    empty,
    json_response,
)
from tokenrig.harness.jumpcloud.emulator.user_schema import (
    RETURN_ONLY_FIELDS,
    USER_FIELDS,
    check_email,
    check_mfa,
)

SORTABLE = frozenset(USER_FIELDS) | RETURN_ONLY_FIELDS


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


def register(routes: ConsoleRoutes) -> None:
    """Register the listing, search and per-user action routes."""
    state = routes.state

    def list_users(request: Request, org: Organization) -> Response:
        limit = parse_count(request.query_one("limit"), "limit", 10, MAX_PAGE) or 10
        skip = parse_count(request.query_one("skip"), "skip", 0, None)
        keep = filters_from_query(request.query)
        records = [r for r in routes.user_records(org) if keep(r)]
        return json_response(_page(request, records, limit, skip))

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
        records = [r for r in routes.user_records(org) if keep(r) and term(r)]
        sort_records(records, request.query_one("sort", "") or "", known=SORTABLE)
        page = [project(r, fields) for r in records[skip : skip + (limit or 10)]]
        return json_response({"totalCount": len(records), "results": page})

    def activate_user(request: Request, org: Organization) -> Response:
        user = routes.find_user(request, org)
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
        user = routes.find_user(request, org)
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
        user = routes.find_user(request, org)
        if user.totp_enrollment_date is None or not user.totp_enabled:
            raise EmulatorError("Not Found: the user has no TOTP enrollment", 404)
        return json_response({"enrollmentDate": iso_time(user.totp_enrollment_date)})

    def unlock_user(request: Request, org: Organization) -> Response:
        state.unlock(routes.find_user(request, org))
        return empty(200)

    def expire_password(request: Request, org: Organization) -> Response:
        routes.find_user(request, org).password_expired = True
        return empty(200)

    def mfa_sync(request: Request, org: Organization) -> Response:
        routes.find_user(request, org)  # statuses are always derived, nothing to re-sync
        return empty(200)

    routes.add_listing("GET", r"/api/systemusers", list_users)
    routes.add("POST", r"/api/systemusers/reactivate", reactivate)
    routes.add("POST", rf"/api/systemusers/{ID}/state/activate", activate_user)
    routes.add("POST", rf"/api/systemusers/{ID}/resetmfa", reset_mfa)
    routes.add("GET", rf"/api/systemusers/{ID}/totpinfo", totp_info)
    routes.add("POST", rf"/api/systemusers/{ID}/unlock", unlock_user)
    routes.add("POST", rf"/api/systemusers/{ID}/expire", expire_password)
    routes.add("POST", rf"/api/systemusers/{ID}/mfasync", mfa_sync)
    routes.add_listing("POST", r"/api/search/systemusers", search_users)
