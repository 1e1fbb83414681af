"""The portal's look (emulator-only ``/__emulator__/portal/look``): the current or the older
JumpCloud wording on every page, and ids renamed per page. The pages must keep their meaning
for a screen reader when ids are renamed: labels still name their inputs and the dialog is
still named by its heading."""

from __future__ import annotations

import re

import pytest
from portal_support import PASSWORD, Admin, PortalUser

from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.portal_looks import PortalLook


def _forced_user(emulator: Emulator, admin: Admin, name: str) -> PortalUser:
    user = admin.create_user(
        name,
        password=PASSWORD,
        enable_user_portal_multifactor=True,
        mfa={"exclusion": True, "exclusionDays": 7},
    )
    browser = PortalUser(emulator, user["email"])
    assert browser.login().status_code == 200
    return browser


def test_defaults_and_bad_values(admin: Admin) -> None:
    assert admin.call("GET", "/__emulator__/portal/look").json() == {
        "wording": "current",
        "ids": "stable",
    }
    for body, field in [
        ({"wording": "newest"}, "wording"),
        ({"ids": "none"}, "ids"),
        ({"colour": "blue"}, "colour"),
    ]:
        answer = admin.call("PUT", "/__emulator__/portal/look", json=body)
        assert answer.status_code == 400, body
        assert field in answer.json()["message"]
    assert admin.call("GET", "/__emulator__/portal/look").json()["wording"] == "current"


def test_the_older_wording_on_every_page(emulator: Emulator, admin: Admin) -> None:
    answer = admin.call("PUT", "/__emulator__/portal/look", json={"wording": "older"})
    assert answer.json() == {"wording": "older", "ids": "stable"}
    browser = _forced_user(emulator, admin, "older01")
    prompt = browser.get("/userconsole/").text
    assert ">Set Up Multi-Factor Authentication</h1>" in prompt
    assert "Verify Your Identity" not in prompt
    # The older prompt offers the method at once: "Set up TOTP" → the app.
    assert re.search(r'href="/userconsole/mfa/totp"[^>]*>Set up TOTP</a>', prompt)
    assert ">Set Up Later</button>" in prompt
    assert ">Password</a>" in prompt  # the left menu's Security page, older name
    get_app = browser.get("/userconsole/mfa/totp").text
    assert ">Set up Authentication App</h1>" in get_app
    assert ">I have an app</button>" in get_app


def test_the_current_wording_asks_before_offering_the_methods(
    emulator: Emulator, admin: Admin
) -> None:
    browser = _forced_user(emulator, admin, "current01")
    prompt = browser.get("/userconsole/").text
    assert ">Verify Your Identity</h1>" in prompt
    assert re.search(r'href="/userconsole/mfa/setup\?step=methods"[^>]*>Continue</a>', prompt)
    methods = browser.get("/userconsole/mfa/setup?step=methods").text
    assert re.search(r'href="/userconsole/mfa/totp"[^>]*>Set Up Authenticator App</a>', methods)
    assert ">Security</a>" in prompt
    assert ">I Have the App</button>" in browser.get("/userconsole/mfa/totp").text


def test_random_ids_rename_every_id_and_keep_labels_and_dialog_names(
    emulator: Emulator, admin: Admin
) -> None:
    admin.call("PUT", "/__emulator__/portal/look", json={"ids": "random"})
    browser = _forced_user(emulator, admin, "random01")
    first = browser.get("/userconsole/").text
    second = browser.get("/userconsole/").text
    ids = re.findall(r'\bid="([^"]+)"', first)
    assert ids, "the page has no ids at all"
    assert "data-testid" not in first
    assert not {"mfa-setup-title", "setup-later", "nav-home", "logout"} & set(ids)
    assert set(ids).isdisjoint(re.findall(r'\bid="([^"]+)"', second)), "ids repeat per page"
    # The dialog is still named by its heading.
    labelled = re.search(r'role="dialog" aria-modal="true" aria-labelledby="([^"]+)"', first)
    assert labelled is not None
    heading = re.search(rf'id="{labelled.group(1)}"[^>]*>([^<]+)<', first)
    assert heading is not None
    assert heading.group(1) == "Verify Your Identity"
    # Labels still point at their inputs.
    login = PortalUser(emulator, "nobody@example.test").get("/login").text
    targets = re.findall(r'<label for="([^"]+)"', login)
    assert len(targets) == 3  # email, password, verification code
    for target in targets:
        assert f'id="{target}"' in login
    assert 'id="email"' not in login


def test_the_look_as_a_constructor_option() -> None:
    with Emulator(look=PortalLook("older", "random")) as emulator:
        answer = Admin(emulator).call("GET", "/__emulator__/portal/look")
        assert answer.json() == {"wording": "older", "ids": "random"}
    with pytest.raises(ValueError, match="wording must be one of current, older"):
        Emulator(look=PortalLook("newest"))
