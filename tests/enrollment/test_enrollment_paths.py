"""Both enrollment paths, end to end: console → mail → portal → QR → token → code.

Each runs over the portal's JSON calls (``api``) and in headless Chromium (``browser``), with
each token source (simulated firmware on a real pty rig; virtual NFC card on real pcscd).
"""

from __future__ import annotations

from tokenrig.fixtures.enrollment import EnrollSite, EnrollTokenFactory
from tokenrig.harness.enroll.portal import UserPortal
from tokenrig.harness.enroll.procedure import admin_path, self_service_path
from tokenrig.harness.enroll.steps import StepRunner
from tokenrig.harness.jumpcloud import MfaStatus
from tokenrig.harness.otp.hotp import totp
from tokenrig.harness.secrets import SecretText


def test_admin_path(
    enroll_site: EnrollSite,
    portal: UserPortal,
    enroll_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    token = enroll_token_factory("C302")
    username, email = enroll_site.new_user()
    assert enroll_site.mailbox is not None
    enrollment = admin_path(
        steps,
        admin=enroll_site.admin,
        portal=portal,
        mailbox=enroll_site.mailbox,
        token=token,
        clock=enroll_site.clock,
        username=username,
        email=email,
        password=enroll_password,
        created=enroll_site.created,
    )
    user = enroll_site.admin.get_user(enrollment.enrollee.user_id)
    assert user.mfa_enrollment.totp is MfaStatus.ENROLLED
    assert user.totp_enabled
    # The token's first code is what RFC 6238 says for the key the QR code carried.
    key = enrollment.key
    expected = totp(
        key.secret.reveal(),
        enrollment.first_code.reading.host_time,
        period=key.period,
        digits=key.digits,
        algorithm=key.algorithm,
    )
    assert enrollment.first_code.code == expected
    names = [record.name for record in steps.records]
    assert "log in: MFA setup is forced" in names
    assert names[-4:] == [
        "submit the login code",
        "log out",
        "log in again: a code is demanded",
        "the same code is refused a second time",  # the code is good once, and only once
    ]


def test_self_service_path(
    enroll_site: EnrollSite,
    portal: UserPortal,
    enroll_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    token = enroll_token_factory("C302")
    username, email = enroll_site.new_user()
    enrollment = self_service_path(
        steps,
        admin=enroll_site.admin,
        portal=portal,
        token=token,
        clock=enroll_site.clock,
        username=username,
        email=email,
        password=enroll_password,
        created=enroll_site.created,
    )
    assert portal.totp_active()
    user = enroll_site.admin.get_user(enrollment.enrollee.user_id)
    assert user.mfa_enrollment.totp is MfaStatus.ENROLLED
    assert not user.enable_user_portal_multifactor
