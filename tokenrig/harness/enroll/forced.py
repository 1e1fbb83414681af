"""The forced path: a user the administrator already requires MFA of enrolls at login.

It is the admin path from the moment "Require MFA" is set, without the activation mail:
the user has a password, the next login shows the MFA setup instead of the portal, the
token is enrolled there, and the login after that demands (and accepts, once) its code.
"""

from __future__ import annotations

from tokenrig.harness.clock import Clock
from tokenrig.harness.enroll.portal import UserPortal
from tokenrig.harness.enroll.procedure import (
    DEFAULT_GRACE_DAYS,
    Enrollee,
    Enrollment,
    add_active_user,
    enable_totp_for_org,
    enroll_at_forced_login,
    log_in,
    require_mfa,
)
from tokenrig.harness.enroll.steps import StepRunner
from tokenrig.harness.jumpcloud import JumpCloudClient
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome
from tokenrig.harness.secrets import SecretText
from tokenrig.harness.tokens.base import Token


def forced_path(
    runner: StepRunner,
    *,
    admin: JumpCloudClient,
    portal: UserPortal,
    token: Token,
    clock: Clock,
    username: str,
    email: str,
    password: SecretText,
    grace_days: int = DEFAULT_GRACE_DAYS,
    created: list[str] | None = None,
) -> Enrollment:
    """User with a password and "Require MFA" → login forces setup → token → next login."""
    runner.run("MFA Configurations: switch TOTP on for the org", enable_totp_for_org, admin)
    user_id = runner.run(
        "Users: add user with a password", add_active_user, admin, username, email, password
    )
    if created is not None:
        created.append(user_id)
    runner.run(
        f"Require MFA for User Portal ({grace_days}-day grace period)",
        require_mfa,
        admin,
        user_id,
        grace_days,
        clock,
    )
    runner.run(
        "log in: MFA setup is forced", log_in, portal, email, password, LoginOutcome.SETUP_REQUIRED
    )
    enrollee = Enrollee(user_id, username, email, password)
    return enroll_at_forced_login(runner, admin, portal, token, clock, enrollee)
