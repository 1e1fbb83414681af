"""The two enrollment paths, step by step: the administrator's and the user's own.

Each step is a small function; :func:`admin_path` and :func:`self_service_path` run them in
the order the real procedure has, through a :class:`~tokenrig.harness.enroll.steps.StepRunner`, so a
failure reads "step 9 'burn seed into token' failed: ...". Tests that walk only part of a
path (negative and edge cases) call the same step functions.

Admin path: TOTP on for the org → add user (STAGED) → Activate Now (ACTIVATED, password
pending) → activation mail → set password → require MFA with a grace period → login forces
"Set Up Multi-Factor Authentication" → authenticator app → "I Have the App" → QR → token →
code → ENROLLED → the next login demands and accepts a fresh code from the token.

Self-service path: user with a password, MFA not required → login → Security → "Set Up
Authenticator App" → "I Have the App" → QR → token → code → "Authenticator App Enrollment
Successful!" → Security says the app is active.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from tokenrig.harness.clock import Clock
from tokenrig.harness.enroll.portal import Mailbox, UserPortal
from tokenrig.harness.enroll.qr import decode_qr
from tokenrig.harness.enroll.steps import StepCheckError, StepRunner, check
from tokenrig.harness.enroll.token_part import (
    TokenCode,
    burn,
    describe_key,
    key_from_qr,
    plan_burn,
    read_code,
    wait_for_next_step,
)
from tokenrig.harness.jumpcloud import JumpCloudClient, MfaStatus, UserState
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome, VerifyOutcome
from tokenrig.harness.otp.uri import OtpUri
from tokenrig.harness.secrets import SecretText
from tokenrig.harness.tokens.base import BurnRequest, SeedState, Token

DEFAULT_GRACE_DAYS = 7
DAY = 86_400


@dataclass(frozen=True)
class Enrollee:
    """The user being enrolled. The password never prints (SecretText)."""

    user_id: str
    username: str
    email: str
    password: SecretText


@dataclass(frozen=True)
class Enrollment:
    """What a finished enrollment leaves: who, which key (secret wrapped), which token."""

    enrollee: Enrollee
    key: OtpUri
    burn: BurnRequest
    token: Token
    first_code: TokenCode


# -- console (administrator) steps -------------------------------------------------------------
def enable_totp_for_org(admin: JumpCloudClient) -> None:
    """Security Management → MFA Configurations: TOTP on."""
    factor = admin.set_totp_factor(True)
    check(factor.enabled, "the org's TOTP factor still reads disabled after switching it on")


def add_staged_user(admin: JumpCloudClient, username: str, email: str) -> str:
    """User Management → Users → add: the new user must be STAGED."""
    user = admin.create_user(
        username, email, firstname="Token", lastname="Rig", state=UserState.STAGED
    )
    check(user.state is UserState.STAGED, f"new user is {user.state}, expected STAGED")
    return user.id


def add_active_user(admin: JumpCloudClient, username: str, email: str, password: SecretText) -> str:
    """A user who already has a password and no MFA requirement (self-service start)."""
    user = admin.create_user(
        username,
        email,
        firstname="Token",
        lastname="Rig",
        state=UserState.ACTIVATED,
        password=password,
    )
    check(user.state is UserState.ACTIVATED, f"new user is {user.state}, expected ACTIVATED")
    check(not user.enable_user_portal_multifactor, "MFA is required for a self-service user")
    return user.id


def activate_now(admin: JumpCloudClient, user_id: str) -> None:
    """ "Activate Now": ACTIVATED, password status pending (no password chosen yet)."""
    admin.activate_user(user_id)
    user = admin.get_user(user_id)
    check(user.state is UserState.ACTIVATED, f"user is {user.state} after Activate Now")
    check(not user.activated, "password status is not pending: the user already has a password")


def require_mfa(admin: JumpCloudClient, user_id: str, days: int, clock: Clock) -> None:
    """ "Require MFA for User Portal" with a grace period of ``days``.

    The grace period is read back too: a console that stored no end date, or one a day off,
    would lock the user out early (or never), and the admin path would still look fine.
    "About ``days`` ahead" means within half a day of ``clock``'s now plus ``days``.
    """
    admin.require_mfa(user_id, days=days)
    user = admin.get_user(user_id)
    check(user.enable_user_portal_multifactor, "Require MFA did not stick on the user record")
    check(user.mfa.exclusion, "no grace period on the user record (mfa.exclusion is false)")
    until = user.mfa.exclusion_until
    if until is None:
        raise StepCheckError("the user record has no grace period end (mfa.exclusionUntil)")
    ahead = (until.timestamp() - clock.now()) / DAY
    check(
        abs(ahead - days) < 0.5,
        f"the grace period ends {ahead:.2f} days from now ({until.isoformat()}), expected {days}",
    )


def check_totp_status(admin: JumpCloudClient, user_id: str, expected: MfaStatus) -> None:
    status = admin.get_user(user_id).mfa_enrollment.totp
    check(status is expected, f"mfaEnrollment.totpStatus is {status}, expected {expected}")


# -- portal (user) steps -----------------------------------------------------------------------
def read_activation_link(mailbox: Mailbox, to: str) -> str:
    link = mailbox.activation_link(to)
    check(urlsplit(link).scheme in ("http", "https"), "activation mail's link is not a web link")
    return link


def log_in(portal: UserPortal, email: str, password: SecretText, expected: LoginOutcome) -> None:
    result = portal.login(email, password)
    check(
        result.outcome is expected,
        f"login ended {result.outcome}, expected {expected}"
        + (f" (portal said: {result.message})" if result.message else ""),
    )


def submit_login_code(portal: UserPortal, code: TokenCode, expected: LoginOutcome) -> None:
    result = portal.submit_login_code(code.code)
    check(
        result.outcome is expected,
        f"login code {code.code} ended {result.outcome}, expected {expected}"
        + (f" (portal said: {result.message})" if result.message else ""),
    )


def submit_enrollment_code(portal: UserPortal, code: TokenCode) -> str:
    """ "Verify Your Account" with the token's code: must end in a successful enrollment."""
    result = portal.verify_totp(code.code)
    check(
        result.outcome is VerifyOutcome.ENROLLED,
        f"code {code.code} was {result.outcome}: {result.message}",
    )
    check(
        "Enrollment Successful" in result.message,
        f"portal did not say the enrollment succeeded ({result.message!r})",
    )
    return result.message


def check_totp_active(portal: UserPortal) -> None:
    check(portal.totp_active(), "the Security page does not say the authenticator app is active")


def _shows(code: TokenCode) -> str:
    return f"display shows {code.code}"


# -- the token's part -----------------------------------------------------------------------------
def token_part(
    runner: StepRunner, qr_png: bytes, token: Token, clock: Clock
) -> tuple[OtpUri, BurnRequest, TokenCode]:
    """QR → otpauth URI → model check → burn → power-cycle → press → code (5 steps)."""
    text = runner.run("decode QR code", decode_qr, qr_png)
    key = runner.run("parse otpauth URI", key_from_qr, text, describe=describe_key)
    request, code = _burn_and_read(runner, token, key, clock, "burn")
    return key, request, code


def _burn_and_read(
    runner: StepRunner, token: Token, key: OtpUri, clock: Clock, verb: str
) -> tuple[BurnRequest, TokenCode]:
    """Model check → burn (clock set with it) → power-cycle → press → code (4 steps)."""
    request = runner.run(
        f"check URI against token model {token.spec.name}",
        plan_burn,
        key,
        token,
        clock_time=int(clock.now()),
    )
    runner.run(f"{verb} seed into token {token.identity.serial}", burn, token, request)
    runner.run("power-cycle token", token.power_cycle)
    code = runner.run(
        "press button and read code", read_code, token, digits=key.digits, describe=_shows
    )
    return request, code


def resync_token_clock(token: Token, clock: Clock) -> None:
    """Set the token's clock without burning: refused loudly when that erased the seed.

    On restricted-sync models any time write erases the seed; a token "re-synced" that way
    shows nothing (or, worse, a stale code on a rig that caches) until burned again.
    """
    state = token.set_clock(int(clock.now()))
    check(
        state is SeedState.KEPT,
        f"the clock write erased the seed of {token.spec.name} {token.identity.serial} "
        "(restricted-sync model): the key must be burned again",
    )


def reburn(runner: StepRunner, token: Token, key: OtpUri, clock: Clock) -> TokenCode:
    """Burn the same key again (clock set with it), power-cycle, read a code."""
    _, code = _burn_and_read(runner, token, key, clock, "re-burn")
    return code


def enroll_token(
    runner: StepRunner, portal: UserPortal, token: Token, clock: Clock, *, forced: bool
) -> tuple[OtpUri, BurnRequest, TokenCode]:
    """From the portal's setup entry to "Enrollment Successful!"."""
    entry = (
        "Set Up MFA → Authenticator App → I Have the App → QR code"
        if forced
        else "Security → Set Up Authenticator App → I Have the App → QR code"
    )
    qr_png = runner.run(entry, portal.open_totp_setup, forced=forced)
    key, request, code = token_part(runner, qr_png, token, clock)
    runner.run(
        "Verify Your Account: submit the code",
        submit_enrollment_code,
        portal,
        code,
        describe=str,
    )
    return key, request, code


def login_with_token(
    runner: StepRunner,
    portal: UserPortal,
    enrollee: Enrollee,
    token: Token,
    clock: Clock,
    *,
    period: int = 30,
    check_replay: bool = True,
) -> None:
    """Log out, wait for a fresh time step, log in: a code is demanded and the token's works.
    With ``check_replay`` the same code is then refused on a second login (the portal's
    replay rule, and proof the code came from this token's fresh step)."""
    runner.run("log out", portal.logout)
    runner.run("wait for the next time step", wait_for_next_step, clock, period)
    runner.run(
        "log in: the portal demands a code",
        log_in,
        portal,
        enrollee.email,
        enrollee.password,
        LoginOutcome.CODE_REQUIRED,
    )
    code = runner.run("press button and read a fresh code", read_code, token, describe=_shows)
    runner.run("submit the login code", submit_login_code, portal, code, LoginOutcome.SIGNED_IN)
    if check_replay:  # the seed's last proof: a code is good once, so it is the token's own
        runner.run("log out", portal.logout)
        runner.run(
            "log in again: a code is demanded",
            log_in,
            portal,
            enrollee.email,
            enrollee.password,
            LoginOutcome.CODE_REQUIRED,
        )
        runner.run(
            "the same code is refused a second time",
            submit_login_code,
            portal,
            code,
            LoginOutcome.FAILED,
        )


# -- the two paths -------------------------------------------------------------------------------
def admin_path(
    runner: StepRunner,
    *,
    admin: JumpCloudClient,
    portal: UserPortal,
    mailbox: Mailbox,
    token: Token,
    clock: Clock,
    username: str,
    email: str,
    password: SecretText,
    grace_days: int = DEFAULT_GRACE_DAYS,
    created: list[str] | None = None,
) -> Enrollment:
    """The administrator's path, from the org's TOTP switch to the next login with a code.

    ``created`` receives the new user's id as soon as it exists (for clean-up on failure).
    """
    runner.run("MFA Configurations: switch TOTP on for the org", enable_totp_for_org, admin)
    user_id = runner.run("Users: add user (STAGED)", add_staged_user, admin, username, email)
    if created is not None:
        created.append(user_id)
    runner.run("Activate Now: ACTIVATED, password pending", activate_now, admin, user_id)
    link = runner.run(
        "read the activation email",
        read_activation_link,
        mailbox,
        email,
        describe=lambda found: f"link to {urlsplit(found).path}",
    )
    runner.run("follow the link and set a password", portal.activate, link, password)
    runner.run(
        f"Require MFA for User Portal ({grace_days}-day grace period)",
        require_mfa,
        admin,
        user_id,
        grace_days,
        clock,
    )
    runner.run(
        "log in: MFA setup is forced",
        log_in,
        portal,
        email,
        password,
        LoginOutcome.SETUP_REQUIRED,
    )
    enrollee = Enrollee(user_id, username, email, password)
    return enroll_at_forced_login(runner, admin, portal, token, clock, enrollee)


def enroll_at_forced_login(
    runner: StepRunner,
    admin: JumpCloudClient | None,
    portal: UserPortal,
    token: Token,
    clock: Clock,
    enrollee: Enrollee,
) -> Enrollment:
    """From the forced setup prompt to the proven next login (``admin`` None: a portal user
    only, as with ``tokenrig enroll --url``, so the console check is left out)."""
    key, request, code = enroll_token(runner, portal, token, clock, forced=True)
    if admin is not None:
        runner.run(
            "console: mfaEnrollment.totpStatus is ENROLLED",
            check_totp_status,
            admin,
            enrollee.user_id,
            MfaStatus.ENROLLED,
        )
    login_with_token(runner, portal, enrollee, token, clock, period=key.period)
    return Enrollment(enrollee, key, request, token, code)


def self_service_path(
    runner: StepRunner,
    *,
    admin: JumpCloudClient,
    portal: UserPortal,
    token: Token,
    clock: Clock,
    username: str,
    email: str,
    password: SecretText,
    created: list[str] | None = None,
) -> Enrollment:
    """The user's own path: Security → Set Up Authenticator App, MFA not required."""
    runner.run("MFA Configurations: switch TOTP on for the org", enable_totp_for_org, admin)
    user_id = runner.run(
        "Users: add user with a password (MFA not required)",
        add_active_user,
        admin,
        username,
        email,
        password,
    )
    if created is not None:
        created.append(user_id)
    runner.run("log in to the User Portal", log_in, portal, email, password, LoginOutcome.SIGNED_IN)
    key, request, code = enroll_token(runner, portal, token, clock, forced=False)
    runner.run("Security: the authenticator app is active", check_totp_active, portal)
    runner.run(
        "console: mfaEnrollment.totpStatus is ENROLLED",
        check_totp_status,
        admin,
        user_id,
        MfaStatus.ENROLLED,
    )
    enrollee = Enrollee(user_id, username, email, password)
    return Enrollment(enrollee, key, request, token, code)
