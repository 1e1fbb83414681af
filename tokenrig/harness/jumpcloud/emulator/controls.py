"""Emulator-only controls under ``/__emulator__/`` (no JumpCloud equivalent, no API key).

They let a test (or a person with curl) reset the emulator, move its clock, read the mail
outbox, add organizations and inject faults. The prefix keeps them from ever being mistaken
for a JumpCloud route; the server binds to loopback, so only local processes reach them.

=========================================  ==========================================
``POST /__emulator__/reset``               forget users, mail, faults, settings
``GET /__emulator__/clock``                ``{"now": unix, "iso": ..., "virtual": bool}``
``PUT /__emulator__/clock``                ``{"now": unix | ISO}`` (virtual clock only)
``POST /__emulator__/clock/advance``       ``{"seconds": n}`` (virtual clock only)
``GET /__emulator__/outbox[?to=addr]``     ``{"messages": [...]}``
``DELETE /__emulator__/outbox``            empty the outbox
``GET|POST|DELETE /__emulator__/faults``   list / add / clear faults; a fault is
                                           ``{path,status,latency,reset,retry_after,count,
                                           after}`` (``after``: answer ``status`` once the
                                           handler has run)
``PUT /__emulator__/rate-limit``           ``{"rate": req_per_s | null, "burst": n}``
``GET|POST /__emulator__/orgs``            list ``{id,name}`` / add ``{"name", "api_key"}``
=========================================  ==========================================
"""

from __future__ import annotations

from typing import Any

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator.faults import Fault, FaultPlan
from tokenrig.harness.jumpcloud.emulator.models import (
    EmulatorError,
    EmulatorState,
    iso_time,
    parse_iso_time,
)
from tokenrig.harness.jumpcloud.emulator.server import Request, Response, Router, json_response

PREFIX = "/__emulator__"


def _typed(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = body.get(name, default)
    if value is default:
        return value
    # bool is an int in Python; a JSON true is never a valid number here.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise EmulatorError(f"Bad Request: {name!r} has the wrong type")
    if not isinstance(value, kind):
        raise EmulatorError(f"Bad Request: {name!r} has the wrong type")
    return value


def register(router: Router, state: EmulatorState, faults: FaultPlan) -> None:
    def virtual_clock() -> VirtualClock:
        if not isinstance(state.clock, VirtualClock):
            raise EmulatorError(
                "the emulator runs on the host clock; start it with a virtual clock", 409
            )
        return state.clock

    def clock_json() -> Response:
        with state.lock:  # what the new time made due (reminder mails, locks) happens now
            state.run_due_state_changes()
        now = state.now()
        return json_response(
            {"now": now, "iso": iso_time(now), "virtual": isinstance(state.clock, VirtualClock)}
        )

    def reset(_: Request) -> Response:
        with state.lock:
            state.reset()
        faults.clear()
        return json_response({"reset": True})

    def get_clock(_: Request) -> Response:
        return clock_json()

    def set_clock(request: Request) -> Response:
        body = request.json_object()
        value = body.get("now")
        clock = virtual_clock()
        if isinstance(value, str):
            clock.set(parse_iso_time(value))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            clock.set(float(value))
        else:
            raise EmulatorError("Bad Request: 'now' must be a Unix time or an ISO 8601 date-time")
        return clock_json()

    def advance_clock(request: Request) -> Response:
        seconds = _typed(request.json_object(), "seconds", (int, float), None)
        if seconds is None or seconds < 0:
            raise EmulatorError("Bad Request: 'seconds' must be a number >= 0")
        virtual_clock().advance(float(seconds))
        return clock_json()

    def read_outbox(request: Request) -> Response:
        to = request.query_one("to")
        with state.lock:
            state.run_due_state_changes()
            messages = [
                m.to_json() for m in state.outbox if to is None or m.to.casefold() == to.casefold()
            ]
        return json_response({"messages": messages})

    def clear_outbox(_: Request) -> Response:
        with state.lock:
            state.outbox.clear()
        return json_response({"messages": []})

    def list_faults(_: Request) -> Response:
        return json_response(faults.to_json())

    def add_fault(request: Request) -> Response:
        body = request.json_object()
        unknown = set(body) - {
            "path",
            "status",
            "latency",
            "reset",
            "retry_after",
            "count",
            "after",
        }
        if unknown:
            raise EmulatorError(f"Bad Request: unknown fault field(s) {sorted(unknown)}")
        fault = Fault(
            path=_typed(body, "path", str, ""),
            status=_typed(body, "status", int, 0),
            latency=float(_typed(body, "latency", (int, float), 0.0)),
            reset=_typed(body, "reset", bool, False),
            retry_after=_typed(body, "retry_after", int, 1),
            count=_typed(body, "count", int, 1),
            after=_typed(body, "after", bool, False),
        )
        if not (fault.status or fault.latency or fault.reset):
            raise EmulatorError("Bad Request: a fault needs a status, a latency or reset=true")
        try:
            faults.add(fault)
        except Exception as exc:  # re.error or ValueError from the plan's own checks
            raise EmulatorError(f"Bad Request: {exc}") from exc
        return json_response(faults.to_json(), 201)

    def clear_faults(_: Request) -> Response:
        faults.clear()
        return json_response(faults.to_json())

    def set_rate_limit(request: Request) -> Response:
        body = request.json_object()
        rate = _typed(body, "rate", (int, float), None)
        burst = _typed(body, "burst", int, 1)
        try:
            faults.set_rate_limit(None if rate is None else float(rate), burst)
        except ValueError as exc:
            raise EmulatorError(f"Bad Request: {exc}") from exc
        return json_response(faults.to_json())

    def list_orgs(_: Request) -> Response:
        with state.lock:
            orgs = [{"id": org.id, "name": org.display_name} for org in state.orgs.values()]
        return json_response({"orgs": orgs})

    def add_org(request: Request) -> Response:
        body = request.json_object()
        key = _typed(body, "api_key", str, "")
        name = _typed(body, "name", str, "Emulated Org")
        with state.lock:
            org = state.add_org(key, name)
        return json_response({"id": org.id, "name": org.display_name}, 201)

    router.add("POST", PREFIX + "/reset", reset)
    router.add("GET", PREFIX + "/clock", get_clock)
    router.add("PUT", PREFIX + "/clock", set_clock)
    router.add("POST", PREFIX + "/clock/advance", advance_clock)
    router.add("GET", PREFIX + "/outbox", read_outbox)
    router.add("DELETE", PREFIX + "/outbox", clear_outbox)
    router.add("GET", PREFIX + "/faults", list_faults)
    router.add("POST", PREFIX + "/faults", add_fault)
    router.add("DELETE", PREFIX + "/faults", clear_faults)
    router.add("PUT", PREFIX + "/rate-limit", set_rate_limit)
    router.add("GET", PREFIX + "/orgs", list_orgs)
    router.add("POST", PREFIX + "/orgs", add_org)
