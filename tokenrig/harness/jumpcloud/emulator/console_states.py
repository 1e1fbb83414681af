"""V2 scheduled user states (``/api/v2/bulk/userstates``): a job per user that activates or
suspends them once the emulator's clock passes its ``start_date``.

Jobs live in ``state.scheduled_states``; ``EmulatorState.run_due_state_changes`` (run before
every console call) applies the due ones, so a virtual clock drives them in tests.
"""

from __future__ import annotations

from tokenrig.harness.jumpcloud.emulator.console_api import ID, ConsoleRoutes
from tokenrig.harness.jumpcloud.emulator.listing import MAX_PAGE, parse_count
from tokenrig.harness.jumpcloud.emulator.models import (
    EmulatorError,
    Organization,
    ScheduledStateChange,
    new_object_id,
    parse_iso_time,
)
from tokenrig.harness.jumpcloud.emulator.server import (
    OBJECT_ID,
    Request,
    Response,
    empty,
    json_response,
)
from tokenrig.harness.jumpcloud.emulator.user_schema import check_email
from tokenrig.harness.jumpcloud.objects import UserState

_ALLOWED = frozenset(
    {"user_ids", "state", "start_date", "send_activation_emails", "activation_email_override"}
)


def register(routes: ConsoleRoutes) -> None:
    """Register POST/GET/DELETE of the scheduled user-state jobs."""
    state = routes.state

    def schedule_states(request: Request, org: Organization) -> Response:
        body = request.json_object()
        if set(body) - _ALLOWED:
            raise EmulatorError(f"Bad Request: unknown field(s) {sorted(set(body) - _ALLOWED)}")
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

    routes.add("POST", r"/api/v2/bulk/userstates", schedule_states)
    routes.add("GET", r"/api/v2/bulk/userstates", list_scheduled)
    routes.add("DELETE", rf"/api/v2/bulk/userstates/{ID}", delete_scheduled)
