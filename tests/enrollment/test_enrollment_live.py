"""The admin path against a real JumpCloud org (``--jumpcloud URL`` + ``JUMPCLOUD_API_KEY``).

The console API steps run for real. The activation mail is read only when a test mailbox is
configured (``JUMPCLOUD_TEST_IMAP_URL``; the user is then created at that mailbox's address,
``JUMPCLOUD_TEST_EMAIL`` or the IMAP user name). The portal (user-side) steps run only with
``--live-portal``: the password is set from the mail's link and the first login must demand
the MFA set-up, in headless Chromium on the org's own User Portal; without the flag the test
stops there saying so. The org's TOTP factor is put back at session end, the user deleted.
"""

from __future__ import annotations

import os

import pytest

from tokenrig.fixtures.enrollment import PORTAL_ONLY_EMULATED, EnrollSite
from tokenrig.harness.enroll import procedure as p
from tokenrig.harness.enroll.mailbox import IMAP_URL_ENV, ImapMailbox
from tokenrig.harness.enroll.steps import StepRunner
from tokenrig.harness.jumpcloud import MfaStatus, UserState
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome
from tokenrig.harness.secrets import SecretText

pytestmark = pytest.mark.jumpcloud_live

NO_MAILBOX = (
    f"activation mail and portal steps need a real test mailbox: set {IMAP_URL_ENV} "
    "(imaps://user:password@host/FOLDER) to read the activation link over IMAP"
)


def _address(site: EnrollSite, username: str) -> str:
    """Where the activation mail should go: the test mailbox (plus-addressed) or nowhere."""
    mailbox = site.mailbox
    base = os.environ.get("JUMPCLOUD_TEST_EMAIL") or (
        mailbox.settings.user if isinstance(mailbox, ImapMailbox) else ""
    )
    if "@" not in base:
        return f"{username}@example.test"
    local, _, domain = base.partition("@")
    return f"{local}+{username}@{domain}"


def test_admin_path_console_steps_on_a_real_org(
    enroll_site: EnrollSite,
    steps: StepRunner,
    enroll_password: SecretText,
    request: pytest.FixtureRequest,
) -> None:
    site = enroll_site
    assert site.live, "this test is only collected for a real org"
    username, _ = site.new_user()
    email = _address(site, username)
    admin = site.admin

    factor = steps.run("MFA Configurations: read the TOTP switch", admin.totp_factor)
    if not factor.enabled:
        steps.run("MFA Configurations: switch TOTP on for the org", p.enable_totp_for_org, admin)
    user_id = steps.run("Users: add user (STAGED)", p.add_staged_user, admin, username, email)
    site.created.append(user_id)
    steps.run("Activate Now: ACTIVATED, password pending", p.activate_now, admin, user_id)
    steps.run(
        "Require MFA for User Portal (7-day grace period)",
        p.require_mfa,
        admin,
        user_id,
        7,
        site.clock,
    )
    user = admin.get_user(user_id)
    assert user.state is UserState.ACTIVATED
    assert user.enable_user_portal_multifactor
    assert user.mfa_enrollment.totp is not MfaStatus.ENROLLED

    if site.mailbox is None:
        pytest.skip(NO_MAILBOX)
    link = steps.run(
        "read the activation email (IMAP)", p.read_activation_link, site.mailbox, email
    )
    assert link.startswith("https://")
    if not site.live_portal:
        pytest.skip(f"activation link received; {PORTAL_ONLY_EMULATED}")
    portal = request.getfixturevalue("live_browser_portal")
    steps.run("follow the link and set a password", portal.activate, link, enroll_password)
    steps.run(
        "log in: MFA setup is forced",
        p.log_in,
        portal,
        email,
        enroll_password,
        LoginOutcome.SETUP_REQUIRED,
    )
