"""The public ``enrolled_user`` fixture (docs/pytest-plugin.md): the user it returns is really
enrolled (the portal then demands a code, and only the token's fresh code signs in) and its
secrets stay wrapped."""

from __future__ import annotations

import base64

from tokenrig.fixtures.enrolled import EnrolledUserFactory
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud import MfaStatus
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome


def test_enrolled_user_logs_in_with_the_tokens_next_code(
    enrolled_user: EnrolledUserFactory,
) -> None:
    user = enrolled_user(model="miniOTP-2")
    assert user.token.identity.model == "miniOTP-2"
    assert isinstance(user.clock, VirtualClock)  # simulated token: no real waiting
    assert user.admin.get_user(user.user_id).mfa_enrollment.totp is MfaStatus.ENROLLED

    portal = user.portal()
    assert portal.login(user.email, user.password).outcome is LoginOutcome.CODE_REQUIRED
    code = user.next_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert portal.submit_login_code(wrong).outcome is LoginOutcome.FAILED
    assert portal.login(user.email, user.password).outcome is LoginOutcome.CODE_REQUIRED
    assert portal.submit_login_code(code).outcome is LoginOutcome.SIGNED_IN


def test_two_enrolled_users_are_separate_and_print_no_secret(
    enrolled_user: EnrolledUserFactory,
) -> None:
    first, second = enrolled_user(), enrolled_user()
    assert first.url != second.url  # an emulator each: no shared state between them
    shown = repr(first)
    assert first.password.reveal() not in shown
    seed = first.key.secret.reveal()
    assert base64.b32encode(seed).decode().rstrip("=") not in shown
    assert seed.hex() not in shown
