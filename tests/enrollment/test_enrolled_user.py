"""The public ``enrolled_user`` fixture (docs/pytest-plugin.md): the user it returns is really
enrolled (the portal then demands a code, and only the token's fresh code signs in) and its
secrets stay wrapped."""

from __future__ import annotations

import base64
from collections.abc import Callable

from tokenrig.fixtures.enrolled import EnrolledUserFactory
from tokenrig.harness.clock import SYSTEM_CLOCK, VirtualClock
from tokenrig.harness.jumpcloud import MfaStatus
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome
from tokenrig.harness.tokens.base import Token


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


def test_a_token_handed_in_is_enrolled_in_real_time(
    enrolled_user: EnrolledUserFactory, sim_token_factory: Callable[..., Token]
) -> None:
    """A token from elsewhere (a rig's slot) keeps its own clock: the emulator runs in real time."""
    token = sim_token_factory("C301", index=7)
    user = enrolled_user(token)
    assert user.token is token
    assert user.clock is SYSTEM_CLOCK
    assert user.admin.get_user(user.user_id).mfa_enrollment.totp is MfaStatus.ENROLLED
    assert user.portal().login(user.email, user.password).outcome is LoginOutcome.CODE_REQUIRED
