"""The organization over the console API: ``GET /organizations``, ``GET/PUT
/organizations/{id}`` (settings checked by ``org_settings``) and the org-wide TOTP switch
``/userportal/mfa/totp`` (third-party capture, research section 3.3).

An API key sees exactly its own org; another org's id is a 404, like a missing one.
"""

from __future__ import annotations

from typing import Any

from tokenrig.harness.jumpcloud.emulator.console_api import ID, ConsoleRoutes
from tokenrig.harness.jumpcloud.emulator.models import EmulatorError, Organization
from tokenrig.harness.jumpcloud.emulator.org_settings import check_settings, merge_settings
from tokenrig.harness.jumpcloud.emulator.server import Request, Response, json_response


def _own_org(request: Request, org: Organization) -> Organization:
    if request.params["id"] != org.id:
        raise EmulatorError("Not Found", 404)
    return org


def _totp_factor(org: Organization) -> dict[str, Any]:
    return {"type": "totp", "enabled": org.totp_enabled, "id": "", "readOnly": False}


def register(routes: ConsoleRoutes) -> None:
    """Register the organization and TOTP-switch routes."""

    def list_orgs(_: Request, org: Organization) -> Response:
        entry = {"_id": org.id, "displayName": org.display_name, "logoUrl": ""}
        return json_response({"totalCount": 1, "results": [entry]})

    def get_org(request: Request, org: Organization) -> Response:
        return json_response(_own_org(request, org).to_api())

    def put_org(request: Request, org: Organization) -> Response:
        target = _own_org(request, org)
        body = request.json_object()
        if set(body) - {"settings"}:
            raise EmulatorError("Bad Request: only 'settings' can be changed")
        settings = body.get("settings", {})
        if not isinstance(settings, dict):
            raise EmulatorError("Bad Request: 'settings' must be an object")
        check_settings(settings)
        merge_settings(target.settings, settings)
        if isinstance(settings.get("name"), str):
            target.display_name = settings["name"]
        return json_response(target.to_api())

    def get_totp_factor(_: Request, org: Organization) -> Response:
        return json_response(_totp_factor(org))

    def put_totp_factor(request: Request, org: Organization) -> Response:
        body = request.json_object()
        if set(body) - {"type", "enabled"} or body.get("type", "totp") != "totp":
            raise EmulatorError('Bad Request: body must be {"type": "totp", "enabled": bool}')
        if not isinstance(body.get("enabled"), bool):
            raise EmulatorError("Bad Request: 'enabled' must be a boolean")
        org.totp_enabled = body["enabled"]
        return json_response(_totp_factor(org))

    routes.add("GET", r"/api/organizations", list_orgs)
    routes.add("GET", rf"/api/organizations/{ID}", get_org)
    routes.add("PUT", rf"/api/organizations/{ID}", put_org)
    routes.add("GET", r"/api/userportal/mfa/totp", get_totp_factor)
    routes.add("PUT", r"/api/userportal/mfa/totp", put_totp_factor)
