"""What the console API lets a client write, beyond one field's type: ``manager`` links that
never dangle (409 on deleting a manager, ``cascade_manager=null``), and organization settings
checked against the spec's nested ``organizationsettingsput`` schema (no nulls, no unknown or
mistyped members, ``trustedAppConfig`` with its required ``trustedApps``)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.user_schema import USER_FIELDS


def _create(http: requests.Session, emu: Emulator, name: str, **fields: Any) -> dict[str, Any]:
    body = {"username": name, "email": f"{name}@example.test", **fields}
    answer = http.post(emu.url + "/api/systemusers", json=body)
    assert answer.status_code == 200, answer.text
    user: dict[str, Any] = answer.json()
    return user


# -- read-modify-write ---------------------------------------------------------------------------


def test_get_then_put_writes_a_user_back_unchanged(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    """The spec-free twin of the conformance test: every PUT-able field of a GET body."""
    emu = fresh_emulator
    user = _create(
        emu_http,
        emu,
        "rmw2",
        external_password_expiration_date="2027-01-01T00:00:00Z",
        phoneNumbers=[{"type": "work", "number": "+1 555 0100"}],
    )
    url = f"{emu.url}/api/systemusers/{user['_id']}"
    for stored in ("2027-01-01T00:00:00Z", ""):
        emu_http.put(url, json={"external_password_expiration_date": stored})
        before = emu_http.get(url).json()
        assert before["external_password_expiration_date"] == stored
        body = {k: v for k, v in before.items() if USER_FIELDS.get(k) and USER_FIELDS[k].put}
        written = emu_http.put(url, json=body)
        assert written.status_code == 200, written.text
        assert emu_http.get(url).json() == before
    # POST still wants a date-time there (systemuserputpost's format).
    posted = emu_http.post(
        emu.url + "/api/systemusers",
        json={
            "username": "rmw3",
            "email": "rmw3@example.test",
            "external_password_expiration_date": "",
        },
    )
    assert posted.status_code == 400
    assert "external_password_expiration_date" in posted.json()["message"]


# -- manager --------------------------------------------------------------------------------------


def test_deleting_a_manager_is_a_409_until_cascade_manager_clears_the_reports(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    emu = fresh_emulator
    boss = _create(emu_http, emu, "boss")
    reports = [_create(emu_http, emu, f"report{i}", manager=boss["_id"]) for i in range(2)]
    other = _create(emu_http, emu, "other")
    boss_url = f"{emu.url}/api/systemusers/{boss['_id']}"

    refused = emu_http.delete(boss_url)
    assert refused.status_code == 409
    assert "manager of 2 user(s)" in refused.json()["message"]
    assert "cascade_manager" in refused.json()["message"]
    assert emu_http.get(boss_url).status_code == 200  # nothing deleted

    odd = emu_http.delete(boss_url, params={"cascade_manager": "someone"})
    assert odd.status_code == 400
    assert "cascade_manager" in odd.json()["message"]

    deleted = emu_http.delete(boss_url, params={"cascade_manager": "null"})
    assert deleted.status_code == 200
    assert deleted.json()["_id"] == boss["_id"]
    assert emu_http.get(boss_url).status_code == 404
    for report in reports:
        assert emu_http.get(f"{emu.url}/api/systemusers/{report['_id']}").json()["manager"] == ""
    # A user who manages nobody deletes without the flag.
    assert emu_http.delete(f"{emu.url}/api/systemusers/{other['_id']}").status_code == 200


@pytest.mark.parametrize("manager", ["0" * 24, "not-an-id", "SELF"])
def test_manager_must_name_another_user_of_the_org(
    fresh_emulator: Emulator, emu_http: requests.Session, manager: str
) -> None:
    emu = fresh_emulator
    user = _create(emu_http, emu, "managed")
    value = user["_id"] if manager == "SELF" else manager
    answer = emu_http.put(f"{emu.url}/api/systemusers/{user['_id']}", json={"manager": value})
    assert answer.status_code == 400
    assert "'manager'" in answer.json()["message"]
    posted = emu_http.post(
        emu.url + "/api/systemusers",
        json={"username": "m2", "email": "m2@example.test", "manager": "0" * 24},
    )
    assert posted.status_code == 400


def test_a_manager_in_another_org_is_refused(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    emu = fresh_emulator
    with emu.state.lock:
        emu.state.add_org("second-org-key", "Second")
    stranger = emu_http.post(
        emu.url + "/api/systemusers",
        json={"username": "far", "email": "far@example.test"},
        headers={"x-api-key": "second-org-key"},
    ).json()
    answer = emu_http.post(
        emu.url + "/api/systemusers",
        json={"username": "near", "email": "near@example.test", "manager": stranger["_id"]},
    )
    assert answer.status_code == 400


# -- organization settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"passwordPolicy": {"maxLoginAttempts": None}}, "passwordPolicy.maxLoginAttempts"),
        ({"passwordPolicy": {"needsNumeric": "yes"}}, "passwordPolicy.needsNumeric"),
        ({"passwordPolicy": {"minLength": 8.5}}, "passwordPolicy.minLength"),
        ({"passwordPolicy": {"maxHistory": 25}}, "passwordPolicy.maxHistory"),
        ({"passwordPolicy": {"lockoutTimeInSeconds": 10}}, "passwordPolicy.lockoutTimeInSeconds"),
        ({"passwordPolicy": {"inventedKnob": True}}, "passwordPolicy.inventedKnob"),
        ({"contactEmail": None}, "contactEmail"),
        ({"userPortal": {"cookieExpirationType": "forever"}}, "userPortal.cookieExpirationType"),
        (
            {"userPortal": {"idleSessionDurationMinutes": 0}},
            "userPortal.idleSessionDurationMinutes",
        ),
        ({"features": {"systemInsights": {"enabled": None}}}, "features.systemInsights.enabled"),
        ({"trustedAppConfig": {}}, "trustedAppConfig.trustedApps"),
        ({"trustedAppConfig": {"trustedApps": []}}, "trustedAppConfig.trustedApps"),
        ({"trustedAppConfig": {"trustedApps": [{"path": "/x"}]}}, "trustedApps[0].name"),
        (
            {"systemUserDefaults": {"restrictedFields": [{"field": "shoeSize"}]}},
            "systemUserDefaults.restrictedFields[0].field",
        ),
    ],
)
def test_nested_settings_off_the_spec_are_400_naming_the_setting(
    fresh_emulator: Emulator, emu_http: requests.Session, settings: dict[str, Any], named: str
) -> None:
    url = f"{fresh_emulator.url}/api/organizations/{fresh_emulator.org.id}"
    before = emu_http.get(url).json()["settings"]
    answer = emu_http.put(url, json={"settings": settings})
    assert answer.status_code == 400
    assert named in answer.json()["message"]
    assert emu_http.get(url).json()["settings"] == before  # nothing stored


def test_settings_on_the_spec_are_stored_and_merged(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    url = f"{fresh_emulator.url}/api/organizations/{fresh_emulator.org.id}"
    apps = [{"name": "Application 1", "path": "/Applications/App1.app", "teamid": "T1"}]
    answer = emu_http.put(
        url,
        json={
            "settings": {
                "passwordPolicy": {"maxLoginAttempts": 4, "needsSymbolic": True},
                "trustedAppConfig": {"trustedApps": apps},
                "growthData": {"anything": {"goes": [1, 2]}},
            }
        },
    )
    assert answer.status_code == 200, answer.text
    stored = emu_http.get(url).json()["settings"]
    policy = stored["passwordPolicy"]
    assert policy["maxLoginAttempts"] == 4
    assert policy["needsSymbolic"] is True
    assert policy["lockoutTimeInSeconds"] == 600  # merged, not replaced
    config = stored["trustedAppConfig"]
    assert config["trustedApps"] == apps
    assert isinstance(config["checksum"], str)
    assert config["checksum"]  # the GET schema requires it
    # The GET shape (checksum included) writes back unchanged.
    again = emu_http.put(url, json={"settings": {"trustedAppConfig": config}})
    assert again.status_code == 200, again.text
    assert emu_http.get(url).json()["settings"]["trustedAppConfig"] == config
