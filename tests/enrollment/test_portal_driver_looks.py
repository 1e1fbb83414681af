"""The browser driver against both JumpCloud wordings and against pages whose ids are renamed
on every request: the admin, forced and self-service paths end to end in headless Chromium
(simulated token on a real pty rig). Passing with random ids shows the driver reads roles,
labels and text only; passing with the older wording shows each variant in
``portal_wording.py`` is one the driver can walk."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tokenrig.fixtures.enrollment import EnrollSite, EnrollTokenFactory
from tokenrig.harness.enroll import procedure
from tokenrig.harness.enroll.forced import forced_path
from tokenrig.harness.enroll.procedure import (
    Enrollment,
    admin_path,
    login_with_token,
    self_service_path,
)
from tokenrig.harness.enroll.steps import StepRunner
from tokenrig.harness.jumpcloud import MfaStatus
from tokenrig.harness.jumpcloud.emulator.portal_looks import PortalLook
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome
from tokenrig.harness.jumpcloud.portal_driver import ChromiumSession, MfaPrompt, PortalDriver
from tokenrig.harness.secrets import SecretText

pytestmark = pytest.mark.browser

DAY = 86_400.0

LOOKS = [
    PortalLook("current", "random"),
    PortalLook("older", "stable"),
    PortalLook("older", "random"),
]
STABLE_IDS = ("nav-home", "have-app", "totp-qr", "login-submit", "logout", "totp-status")


@pytest.fixture(params=LOOKS, ids=lambda look: f"{look.wording}-{look.ids}-ids")
def look(request: pytest.FixtureRequest, enroll_site: EnrollSite) -> PortalLook:
    chosen: PortalLook = request.param
    assert enroll_site.emulator is not None
    with enroll_site.emulator.state.lock:
        enroll_site.emulator.state.portal.look = PortalLook(chosen.wording, chosen.ids)
    return chosen


class SeenPages:
    """The HTML of every page the driver took a screenshot of (what it read)."""

    def __init__(self) -> None:
        self.html: list[str] = []

    def __contains__(self, text: str) -> bool:
        return any(text in page for page in self.html)


@pytest.fixture
def seen() -> SeenPages:
    return SeenPages()


@pytest.fixture
def driver(
    look: PortalLook,
    enroll_site: EnrollSite,
    chromium: ChromiumSession,
    steps: StepRunner,
    seen: SeenPages,
) -> Iterator[PortalDriver]:
    page = chromium.page()

    def keep(name: str, png: bytes) -> None:
        steps.attach_png(name, png)
        seen.html.append(page.content())

    try:
        yield PortalDriver(page, enroll_site.url, on_screenshot=keep)
    finally:
        page.close()


def _admin(site: EnrollSite, driver: PortalDriver, **kwargs: Any) -> Enrollment:
    assert site.mailbox is not None
    return admin_path(portal=driver, mailbox=site.mailbox, **kwargs)


def _forced(site: EnrollSite, driver: PortalDriver, **kwargs: Any) -> Enrollment:
    return forced_path(portal=driver, **kwargs)


def _self_service(site: EnrollSite, driver: PortalDriver, **kwargs: Any) -> Enrollment:
    return self_service_path(portal=driver, **kwargs)


PATHS: dict[str, Callable[..., Enrollment]] = {
    "admin": _admin,
    "forced": _forced,
    "self-service": _self_service,
}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_path_in_each_look(
    path: str,
    look: PortalLook,
    driver: PortalDriver,
    enroll_site: EnrollSite,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
    seen: SeenPages,
) -> None:
    username, email = enroll_site.new_user()
    token = pty_token_factory("C302")
    enrollment = PATHS[path](
        enroll_site,
        driver,
        runner=steps,
        admin=enroll_site.admin,
        token=token,
        clock=enroll_site.clock,
        username=username,
        email=email,
        password=enroll_password,
        created=enroll_site.created,
    )
    if path == "self-service":  # the other two paths end with this login themselves
        login_with_token(steps, driver, enrollment.enrollee, token, enroll_site.clock)
    user = enroll_site.admin.get_user(enrollment.enrollee.user_id)
    assert user.mfa_enrollment.totp is MfaStatus.ENROLLED
    assert "the same code is refused a second time" in [record.name for record in steps.records]
    # The driver read the look asked for: its wording, and never a stable id.
    older = look.wording == "older"
    assert (">I have an app<" if older else ">I Have the App<") in seen
    assert (">I Have the App<" if older else ">I have an app<") not in seen
    if path == "self-service":
        assert (">Password</a>" if older else ">Security</a>") in seen
    else:
        assert (">Set up TOTP<" if older else ">Verify Your Identity<") in seen
    ids = {found for html in seen.html for found in re.findall(r'\bid="([^"]+)"', html)}
    if look.ids == "random":
        assert ids.isdisjoint(STABLE_IDS), ids & set(STABLE_IDS)
        assert "data-testid" not in seen
    else:
        assert "nav-home" in ids


def test_set_up_later_on_the_forced_prompt_in_each_look(
    look: PortalLook, driver: PortalDriver, enroll_site: EnrollSite, enroll_password: SecretText
) -> None:
    """The prompt is read (title in the look's wording, days left, Set Up Later offered);
    Set Up Later reaches the portal, and the next login asks again with a day less."""
    admin = enroll_site.admin
    username, email = enroll_site.new_user()
    procedure.enable_totp_for_org(admin)
    user_id = procedure.add_active_user(admin, username, email, enroll_password)
    enroll_site.created.append(user_id)
    procedure.require_mfa(admin, user_id, 7, enroll_site.clock)
    assert driver.login(email, enroll_password).outcome is LoginOutcome.SETUP_REQUIRED
    title = (
        "Set Up Multi-Factor Authentication"
        if look.wording == "older"
        else ("Verify Your Identity")
    )
    assert driver.mfa_prompt() == MfaPrompt(title, 7, can_set_up_later=True)
    driver.set_up_later()
    assert driver.path == "/userconsole/"
    driver.logout()
    enroll_site.virtual_clock.advance(DAY + 60)
    assert driver.login(email, enroll_password).outcome is LoginOutcome.SETUP_REQUIRED
    assert driver.mfa_prompt() == MfaPrompt(title, 6, can_set_up_later=True)
