"""A badge enrolled as a user's MFA factor logs that user in; a wrong code does not.

``enrolled_user`` (tokenrig's plugin) walks the portal's self-service enrollment with a
simulated token against a local JumpCloud emulator; the test then logs in as that user.
"""

from tokenrig.harness.jumpcloud import MfaStatus, UserState
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome


def test_enrolled_badge_logs_the_user_in(enrolled_user):
    user = enrolled_user(model="C302")
    portal = user.portal()

    assert portal.login(user.email, user.password).outcome is LoginOutcome.CODE_REQUIRED
    assert portal.submit_login_code(user.next_code()).outcome is LoginOutcome.SIGNED_IN
    assert user.admin.get_user(user.user_id).mfa_enrollment.totp is MfaStatus.ENROLLED


def test_a_code_from_another_badge_is_refused(enrolled_user):
    alice = enrolled_user(model="C302")
    bob = enrolled_user(model="miniOTP-2")
    portal = alice.portal()

    assert portal.login(alice.email, alice.password).outcome is LoginOutcome.CODE_REQUIRED
    assert portal.submit_login_code(bob.next_code()).outcome is LoginOutcome.FAILED


def test_new_users_start_without_mfa(jc_user):
    user = jc_user(state=UserState.ACTIVATED)
    assert user.username.startswith("tokenrig-")
    assert user.mfa_enrollment.totp is not MfaStatus.ENROLLED
