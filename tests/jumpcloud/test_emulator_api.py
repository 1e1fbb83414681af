"""The emulator's console API over real HTTP: auth, orgs, validation, MFA status movement,
mail, scheduled states. (Service-independent client behaviour is in test_client_users.py.)"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator, MailKind
from tokenrig.harness.jumpcloud.emulator.models import DAY, iso_time, parse_iso_time
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS
from tokenrig.harness.secrets import Secret

PASSWORD = "Tokenrig-Pass-2026"


def create(http: requests.Session, emu: Emulator, **body: Any) -> dict[str, Any]:
    body.setdefault("username", "alice")
    body.setdefault("email", f"{body['username']}@example.test")
    response = http.post(emu.url + "/api/systemusers", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def user_json(http: requests.Session, emu: Emulator, user_id: str) -> dict[str, Any]:
    response = http.get(f"{emu.url}/api/systemusers/{user_id}")
    assert response.status_code == 200
    return dict(response.json())


def clock(emu: Emulator) -> VirtualClock:
    assert isinstance(emu.state.clock, VirtualClock)
    return emu.state.clock


# -- validation choices JumpCloud does not document (emulator-only) ---------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "x" * 31),  # INFERRED: the 30-character Mac/Linux limit, enforced by the API
        ("username", "at@sign"),
        ("email", "two@@example.test"),
        ("email", "a@b"),  # INFERRED: a dotless domain is refused
    ],
)
def test_emulator_refuses_undocumented_invalid_values(
    fresh_emulator: Emulator, emu_http: requests.Session, field: str, value: str
) -> None:
    body = {"username": "valid", "email": "valid@example.test", field: value}
    response = emu_http.post(fresh_emulator.url + "/api/systemusers", json=body)
    assert response.status_code == 400
    assert field in response.json()["message"]


@pytest.mark.parametrize(("field", "taken"), [("username", "first"), ("email", "first@x.test")])
def test_duplicate_message_says_already_exists_and_names_the_field(
    fresh_emulator: Emulator, emu_http: requests.Session, field: str, taken: str
) -> None:
    create(emu_http, fresh_emulator, username="first", email="first@x.test")
    body = {"username": "second", "email": "second@x.test", field: taken}
    response = emu_http.post(fresh_emulator.url + "/api/systemusers", json=body)
    assert response.status_code == 400
    message = response.json()["message"]
    assert "already exists" in message
    assert field in message


# -- auth and organizations -------------------------------------------------------------------
def test_missing_and_wrong_key_are_401(fresh_emulator: Emulator) -> None:
    url = fresh_emulator.url + "/api/systemusers"
    missing = requests.get(url, timeout=5)
    wrong = requests.get(url, headers={"x-api-key": "nope"}, timeout=5)
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    assert (wrong.status_code, wrong.json()) == (401, {"message": "Unauthorized"})


def test_x_org_id_checked(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    url = fresh_emulator.url + "/api/systemusers"
    own = emu_http.get(url, headers={"x-org-id": fresh_emulator.org.id})
    malformed = emu_http.get(url, headers={"x-org-id": "not-an-id"})
    other = emu_http.get(url, headers={"x-org-id": "0" * 24})
    assert own.status_code == 200
    assert (malformed.status_code, malformed.json()["message"]) == (400, "Malformed ID")
    assert other.status_code == 404


def test_orgs_are_isolated(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    added = requests.post(
        fresh_emulator.url + "/__emulator__/orgs",
        json={"name": "Other", "api_key": "other-key"},
        headers=CONTROL_HEADERS,
        timeout=5,
    )
    assert added.status_code == 201
    alice = create(emu_http, fresh_emulator)
    other = requests.Session()
    other.headers["x-api-key"] = "other-key"
    assert other.get(fresh_emulator.url + "/api/systemusers").json()["totalCount"] == 0
    assert other.get(f"{fresh_emulator.url}/api/systemusers/{alice['_id']}").status_code == 404
    assert other.delete(f"{fresh_emulator.url}/api/systemusers/{alice['_id']}").status_code == 404
    # The same username is free in another org.
    same = other.post(
        fresh_emulator.url + "/api/systemusers",
        json={"username": "alice", "email": "alice@example.test"},
    )
    assert same.status_code == 200
    assert same.json()["organization"] == added.json()["id"] != alice["organization"]
    listing = requests.get(fresh_emulator.url + "/__emulator__/orgs", timeout=5).json()
    assert "other-key" not in str(listing)


# -- list parameters --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=101", 'Bad Request: request parameter "limit" exceeds maximum value of 100'),
        ("limit=ten", 'Bad Request: request parameter "limit" must be an integer'),
        ("skip=-1", 'Bad Request: request parameter "skip" must be at least 0'),
        ("filter=username", "Bad Request: invalid filter 'username'; use field:$op:value"),
        ("filter=username:$like:a", "Bad Request: invalid filter operator '$like'"),
    ],
)
def test_bad_list_parameters(
    fresh_emulator: Emulator, emu_http: requests.Session, query: str, message: str
) -> None:
    response = emu_http.get(f"{fresh_emulator.url}/api/systemusers?{query}")
    assert (response.status_code, response.json()) == (400, {"message": message})


def test_default_page_is_ten_with_true_total(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    for n in range(12):
        create(emu_http, fresh_emulator, username=f"user{n:02d}")
    page = emu_http.get(fresh_emulator.url + "/api/systemusers").json()
    assert page["totalCount"] == 12
    assert len(page["results"]) == 10
    tail = emu_http.get(fresh_emulator.url + "/api/systemusers?skip=10&sort=-username").json()
    assert [u["username"] for u in tail["results"]] == ["user01", "user00"]
    either = emu_http.get(
        fresh_emulator.url
        + "/api/systemusers?filter[or][0]=username:$eq:user03&filter[or][1]=username:$eq:user07"
    ).json()
    assert sorted(u["username"] for u in either["results"]) == ["user03", "user07"]


def test_unknown_route_and_method(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    assert emu_http.get(fresh_emulator.url + "/api/nothing-here").status_code == 404
    assert emu_http.patch(fresh_emulator.url + "/api/systemusers").status_code == 405


# -- state, MFA statuses and grace periods ------------------------------------------------------
def test_mfa_status_moves_with_enrollment(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    emu = fresh_emulator
    user = create(
        emu_http,
        emu,
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": 2},
    )
    assert user["mfaEnrollment"]["totpStatus"] == "IN_ENROLLMENT"
    assert parse_iso_time(user["mfa"]["exclusionUntil"]) == pytest.approx(
        emu.state.now() + 2 * DAY, abs=1
    )
    with emu.state.lock:
        model = emu.state.users[user["_id"]]
        emu.state.start_totp_enrollment(model, Secret(b"0123456789abcdefghij", "seed"))
    assert user_json(emu_http, emu, user["_id"])["mfaEnrollment"]["totpStatus"] == "PRE_ENROLLMENT"
    with emu.state.lock:
        emu.state.complete_totp_enrollment(model)
    enrolled = user_json(emu_http, emu, user["_id"])
    assert enrolled["mfaEnrollment"]["totpStatus"] == "ENROLLED"
    assert (enrolled["totp_enabled"], enrolled["mfa"]["configured"]) == (True, True)
    info = emu_http.get(f"{emu.url}/api/systemusers/{user['_id']}/totpinfo")
    assert parse_iso_time(info.json()["enrollmentDate"]) == pytest.approx(emu.state.now(), abs=1)

    clock(emu).advance(10 * DAY)
    reset = emu_http.post(f"{emu.url}/api/systemusers/{user['_id']}/resetmfa", json={})
    assert reset.status_code == 200
    after = user_json(emu_http, emu, user["_id"])
    assert after["totp_enabled"] is False
    assert after["mfaEnrollment"]["totpStatus"] == "IN_ENROLLMENT"
    # A new period starts now (default 7 days), not at the old date.
    assert parse_iso_time(after["mfa"]["exclusionUntil"]) == pytest.approx(
        emu.state.now() + 7 * DAY, abs=1
    )
    assert emu_http.get(f"{emu.url}/api/systemusers/{user['_id']}/totpinfo").status_code == 404

    clock(emu).advance(7 * DAY + 1)
    expired = user_json(emu_http, emu, user["_id"])
    assert expired["mfaEnrollment"]["totpStatus"] == "ENROLLMENT_EXPIRED"


def test_staged_user_grace_counts_from_activation(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    emu = fresh_emulator
    user = create(
        emu_http,
        emu,
        state="STAGED",
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": "3"},  # JumpCloud's module sends a string
    )
    assert user["mfaEnrollment"]["totpStatus"] == "PENDING_ACTIVATION"
    assert "exclusionUntil" not in user["mfa"]
    clock(emu).advance(5 * DAY)
    activated = emu_http.post(
        f"{emu.url}/api/systemusers/{user['_id']}/state/activate", json={"email": False}
    )
    assert activated.status_code == 200
    after = user_json(emu_http, emu, user["_id"])
    assert after["state"] == "ACTIVATED"
    assert parse_iso_time(after["mfa"]["exclusionUntil"]) == pytest.approx(
        emu.state.now() + 3 * DAY, abs=1
    )
    again = emu_http.post(f"{emu.url}/api/systemusers/{user['_id']}/state/activate")
    assert again.status_code == 409


def test_state_only_activated_or_suspended_on_put(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    user = create(emu_http, fresh_emulator)
    url = f"{fresh_emulator.url}/api/systemusers/{user['_id']}"
    assert emu_http.put(url, json={"state": "STAGED"}).status_code == 400
    assert emu_http.put(url, json={"state": "DELETED"}).status_code == 400
    conflict = emu_http.put(url, json={"state": "ACTIVATED", "suspended": True})
    assert conflict.status_code == 400
    assert "conflicting state and suspended" in conflict.json()["message"]
    assert emu_http.put(url, json={"state": "SUSPENDED"}).json()["suspended"] is True


def test_password_policy_details(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    url = fresh_emulator.url + "/api/systemusers"
    plain = emu_http.post(
        url, json={"username": "bob", "email": "bob@example.test", "password": "short"}
    )
    assert (plain.status_code, plain.json()["message"]) == (400, "Password validation fail")
    detailed = emu_http.post(
        url + "?fullValidationDetails=password",
        json={"username": "bob", "email": "bob@example.test", "password": "short"},
    )
    body = detailed.json()
    assert (detailed.status_code, body["status"]) == (400, "INVALID_ARGUMENT")
    assert {v["description"] for v in body["details"][0]["fieldViolationsList"]} >= {"minLength"}
    assert "short" not in detailed.text


# -- mail -----------------------------------------------------------------------------------
def outbox(emu: Emulator) -> list[dict[str, Any]]:
    response = requests.get(emu.url + "/__emulator__/outbox", timeout=5)
    return list(response.json()["messages"])


def test_activation_mail_routes(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    emu = fresh_emulator
    pending = create(
        emu_http, emu, username="pending", state="STAGED", alternateEmail="alt@example.test"
    )
    with_pw = create(emu_http, emu, username="haspw", state="STAGED", password=PASSWORD)
    quiet = create(emu_http, emu, username="quiet", state="STAGED")
    other = create(emu_http, emu, username="other", state="STAGED")
    assert outbox(emu) == []  # staged users get no mail
    for user, body in [
        (pending, {}),
        (with_pw, {"email": True}),
        (quiet, {"email": False}),
        (other, {"email": "x@example.test"}),
    ]:
        response = emu_http.post(
            f"{emu.url}/api/systemusers/{user['_id']}/state/activate", json=body
        )
        assert response.status_code == 200
    mails = {(m["to"], m["kind"]) for m in outbox(emu)}
    assert mails == {
        ("alt@example.test", str(MailKind.ACTIVATION)),
        ("haspw@example.test", str(MailKind.WELCOME)),
        ("x@example.test", str(MailKind.ACTIVATION)),
    }
    activation = next(m for m in outbox(emu) if m["to"] == "alt@example.test")
    assert activation["links"]
    assert activation["links"][0].startswith(emu.url + "/")
    only_alt = requests.get(
        emu.url + "/__emulator__/outbox", params={"to": "ALT@example.test"}, timeout=5
    )
    assert len(only_alt.json()["messages"]) == 1


def test_reactivate_sends_activation_or_reset(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    emu = fresh_emulator
    pending = create(emu_http, emu, username="pending", state="STAGED")
    active = create(emu_http, emu, username="active", state="STAGED", password=PASSWORD)
    body = {"isSelectAll": False, "models": [{"_id": pending["_id"]}, {"_id": active["_id"]}]}
    assert emu_http.post(emu.url + "/api/systemusers/reactivate", json=body).status_code == 200
    kinds = {m["to"]: m["kind"] for m in outbox(emu)}
    assert kinds == {
        "pending@example.test": str(MailKind.ACTIVATION),
        "active@example.test": str(MailKind.PASSWORD_RESET),
    }
    missing = {"models": [{"_id": "0" * 24}]}
    assert emu_http.post(emu.url + "/api/systemusers/reactivate", json=missing).status_code == 404


def test_scheduled_activation_runs_when_clock_passes(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    emu = fresh_emulator
    user = create(emu_http, emu, state="STAGED")
    start = emu.state.now() + DAY
    jobs = emu_http.post(
        emu.url + "/api/v2/bulk/userstates",
        json={"user_ids": [user["_id"]], "state": "ACTIVATED", "start_date": iso_time(start)},
    )
    assert jobs.status_code == 201
    listed = emu_http.get(emu.url + "/api/v2/bulk/userstates", params={"userid": user["_id"]})
    assert listed.headers["x-total-count"] == "1"
    assert user_json(emu_http, emu, user["_id"])["state"] == "STAGED"
    clock(emu).advance(DAY + 1)
    assert user_json(emu_http, emu, user["_id"])["state"] == "ACTIVATED"
    assert [m["kind"] for m in outbox(emu)] == [str(MailKind.ACTIVATION)]
    assert emu_http.get(emu.url + "/api/v2/bulk/userstates").json() == []


def test_org_settings_validation(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    url = f"{fresh_emulator.url}/api/organizations/{fresh_emulator.org.id}"
    assert (
        emu_http.put(
            url, json={"settings": {"passwordPolicy": {"maxLoginAttempts": 0}}}
        ).status_code
        == 400
    )
    assert emu_http.put(url, json={"settings": {"nonsense": 1}}).status_code == 400
    assert emu_http.put(url, json={"displayName": "x"}).status_code == 400
    staged = emu_http.put(
        url, json={"settings": {"newSystemUserStateDefaults": {"manualEntry": "STAGED"}}}
    )
    assert staged.status_code == 200
    assert create(emu_http, fresh_emulator)["state"] == "STAGED"  # org default applies
    assert emu_http.get(f"{fresh_emulator.url}/api/organizations/{'0' * 24}").status_code == 404


# -- controls ---------------------------------------------------------------------------------
def test_controls_clock_and_reset(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    emu = fresh_emulator
    base = emu.url + "/__emulator__"
    set_to = requests.put(
        base + "/clock", json={"now": "2030-01-01T00:00:00Z"}, headers=CONTROL_HEADERS, timeout=5
    ).json()
    assert set_to["iso"] == "2030-01-01T00:00:00.000Z"
    moved = requests.post(
        base + "/clock/advance", json={"seconds": 90}, headers=CONTROL_HEADERS, timeout=5
    ).json()
    assert moved["iso"] == "2030-01-01T00:01:30.000Z"
    assert (
        requests.post(
            base + "/clock/advance", json={"seconds": -1}, headers=CONTROL_HEADERS, timeout=5
        ).status_code
        == 400
    )
    assert (
        requests.post(
            base + "/clock/advance", json={"seconds": True}, headers=CONTROL_HEADERS, timeout=5
        ).status_code
        == 400
    )
    create(emu_http, emu)
    assert requests.post(base + "/reset", headers=CONTROL_HEADERS, timeout=5).status_code == 200
    assert emu_http.get(emu.url + "/api/systemusers").json()["totalCount"] == 0  # key still works


def test_clock_controls_need_virtual_clock(emulator_key: str) -> None:
    with Emulator(api_key=emulator_key) as emu:
        response = requests.post(
            emu.url + "/__emulator__/clock/advance",
            json={"seconds": 1},
            headers=CONTROL_HEADERS,
            timeout=5,
        )
        assert response.status_code == 409
        assert requests.get(emu.url + "/__emulator__/clock", timeout=5).json()["virtual"] is False
