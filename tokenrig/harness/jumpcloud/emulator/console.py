"""The console API: every V1/V2 call :mod:`tokenrig.harness.jumpcloud.client` makes, answered with
the real service's status codes and bodies (shared facts: JumpCloud's V1/V2 specs).

Handlers parse and validate the request, then call the models under ``state.lock``; the list
and search handlers hold it only to copy the records, and filter, sort and page the copies.
Choices the public sources leave open are marked INFERRED and listed in ``docs/jumpcloud.md``.

One module per concern, all registered here: ``console_users`` (the user record),
``console_user_actions`` (listing and per-user actions), ``console_org`` (organization,
settings, TOTP switch) and ``console_states`` (V2 scheduled states), on the shared frame of
``console_api``.
"""

from __future__ import annotations

from tokenrig.harness.jumpcloud.emulator import (
    console_org,
    console_states,
    console_user_actions,
    console_users,
)
from tokenrig.harness.jumpcloud.emulator.console_api import ConsoleRoutes
from tokenrig.harness.jumpcloud.emulator.models import EmulatorState
from tokenrig.harness.jumpcloud.emulator.server import Router


def register(router: Router, state: EmulatorState) -> None:
    """Register the console API routes (all need the API key)."""
    routes = ConsoleRoutes(router, state)
    console_user_actions.register(routes)
    console_users.register(routes)
    console_org.register(routes)
    console_states.register(routes)
