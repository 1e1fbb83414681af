"""The portal policy (emulator-only ``/__emulator__/portal``): seed length, verification
window, wrong-code limit; bad values are refused with a message naming the field."""

from __future__ import annotations

import pytest
from portal_support import PASSWORD, Admin, PortalUser, code_for

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator


def test_defaults_and_bad_values(admin: Admin) -> None:
    assert admin.call("GET", "/__emulator__/portal").json() == {
        "totp_window": 1,
        "totp_secret_bytes": 20,
        "max_failed_codes": 5,
    }
    bad = [
        ({"totp_secret_bytes": 9}, "totp_secret_bytes"),
        ({"totp_window": -1}, "totp_window"),
        ({"max_failed_codes": 0}, "max_failed_codes"),
        ({"max_failed_codes": "5"}, "max_failed_codes"),
        ({"max_failed_codes": True}, "max_failed_codes"),
        ({"lockout": 3}, "lockout"),
    ]
    for body, field in bad:
        answer = admin.call("PUT", "/__emulator__/portal", json=body)
        assert answer.status_code == 400, body
        assert field in answer.json()["message"]
    assert admin.call("GET", "/__emulator__/portal").json()["max_failed_codes"] == 5


def test_eighty_bit_keys_like_jumpcloud(
    emulator: Emulator, admin: Admin, clock: VirtualClock
) -> None:
    admin.call("PUT", "/__emulator__/portal", json={"totp_secret_bytes": 10})
    user = admin.create_user("policy01", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    setup = browser.post("/userconsole/api/mfa/totp/setup").json()
    assert len(setup["key"]) == 16
    uri = browser.setup_totp()
    assert len(uri.secret) == 10
    assert browser.verify(code_for(uri, clock.now())).status_code == 200


@pytest.mark.parametrize(("window", "accepted"), [(0, False), (1, True)])
def test_window_decides_whether_the_previous_step_is_accepted(
    emulator: Emulator, admin: Admin, clock: VirtualClock, window: int, accepted: bool
) -> None:
    admin.call("PUT", "/__emulator__/portal", json={"totp_window": window})
    user = admin.create_user("policy02", password=PASSWORD)
    browser = PortalUser(emulator, user["email"])
    browser.login()
    uri = browser.setup_totp()
    previous = code_for(uri, clock.now())
    clock.advance(30)
    answer = browser.verify(previous)
    if previous == code_for(uri, clock.now()):
        pytest.fail("two consecutive steps showed the same code; pick another START")
    assert (answer.status_code == 200) is accepted, answer.text
