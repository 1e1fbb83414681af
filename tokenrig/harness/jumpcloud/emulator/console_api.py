"""The frame every console-API route module shares: API-key routes run under ``state.lock``
after the clock-driven changes are applied, and the ids in their paths are checked once here.

The route modules (``console_users``, ``console_user_actions``, ``console_org``,
``console_states``) each get one :class:`ConsoleRoutes` and register their handlers on it, so
the locking rule lives in one place instead of being repeated by every handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tokenrig.harness.jumpcloud.emulator.models import (
    EmulatorError,
    EmulatorState,
    Organization,
    SystemUser,
)
from tokenrig.harness.jumpcloud.emulator.server import (
    OBJECT_ID,
    Request,
    Response,
    Router,
    json_response,
)
from tokenrig.harness.jumpcloud.emulator.user_schema import PasswordPolicyError, user_to_api

ID = r"(?P<id>[^/]+)"

ApiHandler = Callable[[Request, Organization], Response]


def user_id_of(request: Request) -> str:
    """The ``{id}`` path parameter, refused with a 400 unless it is a 24-hex ObjectId."""
    user_id = request.params["id"]
    if not OBJECT_ID.fullmatch(user_id):
        raise EmulatorError("Bad Request: invalid id (expected 24 hexadecimal characters)")
    return user_id


class ConsoleRoutes:
    """Registers API-key routes on ``router`` for handlers working on ``state``."""

    def __init__(self, router: Router, state: EmulatorState) -> None:
        self.router = router
        self.state = state

    def add(self, method: str, path: str, handler: ApiHandler) -> None:
        """A route whose handler runs entirely under ``state.lock``."""
        state = self.state

        def run(request: Request) -> Response:
            org = request.require_org()
            try:
                with state.lock:
                    state.run_due_state_changes()
                    return handler(request, org)
            except PasswordPolicyError as exc:
                return json_response(exc.to_json(), 400)

        self.router.add(method, path, run, auth=True)

    def add_listing(self, method: str, path: str, handler: ApiHandler) -> None:
        """A list/search route: it takes ``state.lock`` itself, only to copy the records, and
        filters outside it, so a slow filter never stalls the other requests."""
        self.router.add(
            method, path, lambda request: handler(request, request.require_org()), auth=True
        )

    def user_records(self, org: Organization) -> list[dict[str, Any]]:
        """The org's users in the API shape, built under the lock and safe to read after it:
        ``user_to_api`` makes new dicts, and the nested values it shares with a user's
        profile are replaced on update, never changed in place. (A deep copy here cost the
        load benchmark a third of its throughput.)"""
        with self.state.lock:
            self.state.run_due_state_changes()
            return [user_to_api(self.state, u) for u in self.state.users_of(org)]

    def find_user(self, request: Request, org: Organization) -> SystemUser:
        return self.state.get_user(org, user_id_of(request))
