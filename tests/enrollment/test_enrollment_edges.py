"""Negative and edge paths of enrollment, each its own test, on the shared virtual clock.

The emulator, the simulated token (on a real pty rig) and the harness all read the same
:class:`VirtualClock`, so "30 days of crystal drift" or "the grace period ran out" take no
real time and every verdict is exact.
"""

from __future__ import annotations

import pytest

from tokenrig.fixtures.enrollment import EnrollSite, EnrollTokenFactory
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.enroll import procedure as p
from tokenrig.harness.enroll.portal import UserPortal
from tokenrig.harness.enroll.steps import StepFailed, StepRunner
from tokenrig.harness.enroll.token_part import TokenCode, read_code, wait_for_next_step
from tokenrig.harness.jumpcloud import MfaStatus
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome, PortalClient, VerifyOutcome
from tokenrig.harness.otp.hotp import time_step
from tokenrig.harness.secrets import SecretText

DAY = 86_400


def _other_code(code: TokenCode) -> str:
    """A 6-digit code that is certainly not the token's."""
    return f"{(int(code.code) + 1) % 1_000_000:06d}"


def _self_service_user(
    steps: StepRunner, site: EnrollSite, portal: UserPortal, password: SecretText
) -> p.Enrollee:
    username, email = site.new_user()
    user_id = steps.run("add user", p.add_active_user, site.admin, username, email, password)
    site.created.append(user_id)
    steps.run("log in", p.log_in, portal, email, password, LoginOutcome.SIGNED_IN)
    return p.Enrollee(user_id, username, email, password)


def _enrolled(
    steps: StepRunner,
    site: EnrollSite,
    portal: UserPortal,
    password: SecretText,
    token_factory: EnrollTokenFactory,
    model: str = "C302",
    **token_kwargs: object,
) -> p.Enrollment:
    token = token_factory(model, **token_kwargs)
    username, email = site.new_user()
    return p.self_service_path(
        steps,
        admin=site.admin,
        portal=portal,
        token=token,
        clock=site.clock,
        username=username,
        email=email,
        password=password,
        created=site.created,
    )


def _login_owing_code(steps: StepRunner, portal: UserPortal, enrollee: p.Enrollee) -> None:
    steps.run("log out", portal.logout)
    steps.run(
        "log in: a code is owed",
        p.log_in,
        portal,
        enrollee.email,
        enrollee.password,
        LoginOutcome.CODE_REQUIRED,
    )


def test_wrong_code_is_rejected_and_named_by_step(
    enroll_site: EnrollSite,
    portal: UserPortal,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    _self_service_user(steps, enroll_site, portal, enroll_password)
    token = pty_token_factory("C302")
    qr = steps.run("open setup", portal.open_totp_setup, forced=False)
    _, _, code = p.token_part(steps, qr, token, enroll_site.clock)
    wrong = TokenCode(_other_code(code), code.reading)

    with pytest.raises(StepFailed) as failure:
        steps.run("Verify Your Account: submit the code", p.submit_enrollment_code, portal, wrong)
    assert failure.value.step == "Verify Your Account: submit the code"
    assert "rejected" in failure.value.reason
    assert not portal.totp_active()

    # The right code from the token still enrolls (one wrong try is not a lock-out).
    result = portal.verify_totp(code.code)
    assert result.outcome is VerifyOutcome.ENROLLED


def test_replayed_code_is_rejected(
    enroll_site: EnrollSite,
    api_portal: PortalClient,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    enrollment = _enrolled(steps, enroll_site, api_portal, enroll_password, pty_token_factory)
    _login_owing_code(steps, api_portal, enrollment.enrollee)
    first = enrollment.first_code
    # Rule out every other reason for a rejection before the replay: still the same time step
    # on the shared clock, the token still shows the very same code (so it is the valid code
    # of this step), and the portal has recorded this step as used (its replay guard).
    step = time_step(first.reading.host_time, period=enrollment.key.period)
    assert time_step(enroll_site.clock.now(), period=enrollment.key.period) == step
    assert read_code(enrollment.token).code == first.code
    assert enroll_site.emulator is not None
    with enroll_site.emulator.state.lock:
        used = enroll_site.emulator.state.users[enrollment.enrollee.user_id].last_totp_step
    assert used == step, "the enrollment's code did not mark its time step as used"

    replay = api_portal.submit_login_code(first.code)
    assert replay.outcome is LoginOutcome.FAILED

    wait_for_next_step(enroll_site.clock)
    fresh = read_code(enrollment.token)
    assert fresh.code != enrollment.first_code.code
    assert api_portal.submit_login_code(fresh.code).outcome is LoginOutcome.SIGNED_IN
    # ...and that fresh code cannot be used twice either.
    _login_owing_code(steps, api_portal, enrollment.enrollee)
    assert api_portal.submit_login_code(fresh.code).outcome is LoginOutcome.FAILED


def _drift_out_of_window(site: EnrollSite) -> None:
    """30 days at +200 ppm: the token runs ~518 s ahead, far beyond ±1 step (±30 s)."""
    site.virtual_clock.advance(30 * DAY)


def test_drifted_token_rejected_then_accepted_after_resync(
    enroll_site: EnrollSite,
    api_portal: PortalClient,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    enrollment = _enrolled(
        steps, enroll_site, api_portal, enroll_password, pty_token_factory, "C302", drift_ppm=200.0
    )
    assert not enrollment.token.spec.restricted_sync
    _drift_out_of_window(enroll_site)
    offset = enrollment.token.read_clock() - enroll_site.clock.now()
    assert offset > 90, f"token only {offset:.0f} s ahead; the test needs it beyond the window"

    _login_owing_code(steps, api_portal, enrollment.enrollee)
    drifted = read_code(enrollment.token)
    assert api_portal.submit_login_code(drifted.code).outcome is LoginOutcome.FAILED

    steps.run("resync token clock", p.resync_token_clock, enrollment.token, enroll_site.clock)
    assert abs(enrollment.token.read_clock() - enroll_site.clock.now()) <= 1
    synced = read_code(enrollment.token)
    assert api_portal.submit_login_code(synced.code).outcome is LoginOutcome.SIGNED_IN


def test_drifted_token_rejected_then_accepted_after_reburn(
    enroll_site: EnrollSite,
    api_portal: PortalClient,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    enrollment = _enrolled(
        steps, enroll_site, api_portal, enroll_password, pty_token_factory, "C301", drift_ppm=200.0
    )
    _drift_out_of_window(enroll_site)
    _login_owing_code(steps, api_portal, enrollment.enrollee)
    drifted = read_code(enrollment.token)
    assert api_portal.submit_login_code(drifted.code).outcome is LoginOutcome.FAILED

    # Re-burning the same key (kept from the QR code) sets the clock along with it.
    code = p.reburn(steps, enrollment.token, enrollment.key, enroll_site.clock)
    assert api_portal.submit_login_code(code.code).outcome is LoginOutcome.SIGNED_IN


def test_restricted_sync_resync_without_reburn_is_detected(
    enroll_site: EnrollSite,
    api_portal: PortalClient,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    enrollment = _enrolled(
        steps, enroll_site, api_portal, enroll_password, pty_token_factory, "C301", drift_ppm=200.0
    )
    assert enrollment.token.spec.restricted_sync
    _drift_out_of_window(enroll_site)

    with pytest.raises(StepFailed) as failure:
        steps.run("resync token clock", p.resync_token_clock, enrollment.token, enroll_site.clock)
    assert failure.value.step == "resync token clock"
    assert "erased the seed" in failure.value.reason
    assert "burned again" in failure.value.reason
    # The token really is blank now: no code to give.
    with pytest.raises(StepFailed, match="display stayed blank"):
        steps.run("press button and read code", read_code, enrollment.token)

    _login_owing_code(steps, api_portal, enrollment.enrollee)
    code = p.reburn(steps, enrollment.token, enrollment.key, enroll_site.clock)
    assert api_portal.submit_login_code(code.code).outcome is LoginOutcome.SIGNED_IN


def test_grace_period_expired_locks_out(
    enroll_site: EnrollSite,
    portal: UserPortal,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    site = enroll_site
    assert site.mailbox is not None
    username, email = site.new_user()
    steps.run("enable TOTP", p.enable_totp_for_org, site.admin)
    user_id = steps.run("add staged user", p.add_staged_user, site.admin, username, email)
    site.created.append(user_id)
    steps.run("activate now", p.activate_now, site.admin, user_id)
    link = steps.run("read activation mail", p.read_activation_link, site.mailbox, email)
    steps.run("set password", portal.activate, link, enroll_password)
    steps.run("require MFA, 1-day grace", p.require_mfa, site.admin, user_id, 1, site.clock)
    steps.run(
        "log in inside the grace period",
        p.log_in,
        portal,
        email,
        enroll_password,
        LoginOutcome.SETUP_REQUIRED,
    )

    site.virtual_clock.advance(2 * DAY)
    result = portal.login(email, enroll_password)
    assert result.outcome is LoginOutcome.ENROLLMENT_EXPIRED, result
    assert "expired" in result.message
    status = site.admin.get_user(user_id).mfa_enrollment.totp
    assert status is MfaStatus.ENROLLMENT_EXPIRED


def test_resetmfa_old_token_stops_working_and_reburned_token_enrolls(
    enroll_site: EnrollSite,
    api_portal: PortalClient,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    site = enroll_site
    assert site.mailbox is not None
    token = pty_token_factory("C302")
    username, email = site.new_user()
    first = p.admin_path(
        steps,
        admin=site.admin,
        portal=api_portal,
        mailbox=site.mailbox,
        token=token,
        clock=site.clock,
        username=username,
        email=email,
        password=enroll_password,
        created=site.created,
    )
    user_id = first.enrollee.user_id
    site.admin.reset_mfa(user_id, days=7)
    assert site.admin.get_user(user_id).mfa_enrollment.totp is not MfaStatus.ENROLLED

    steps.run("log out", api_portal.logout)
    wait_for_next_step(site.clock)
    # No code is asked any more (the key is gone): setup is forced again.
    steps.run(
        "log in after resetmfa",
        p.log_in,
        api_portal,
        email,
        enroll_password,
        LoginOutcome.SETUP_REQUIRED,
    )
    qr = steps.run("open setup again", api_portal.open_totp_setup, forced=True)
    old = read_code(token)  # the token still holds the old key
    rejected = api_portal.verify_totp(old.code)
    assert rejected.outcome is VerifyOutcome.REJECTED

    key, _, code = p.token_part(steps, qr, token, site.clock)
    assert key.secret != first.key.secret
    steps.run("submit the new code", p.submit_enrollment_code, api_portal, code)
    assert site.admin.get_user(user_id).mfa_enrollment.totp is MfaStatus.ENROLLED
    p.login_with_token(steps, api_portal, first.enrollee, token, site.clock)


@pytest.mark.parametrize("days", [1, 30])
def test_require_mfa_reads_back_the_grace_period_it_set(
    days: int, enroll_site: EnrollSite, enroll_password: SecretText, steps: StepRunner
) -> None:
    site = enroll_site
    username, email = site.new_user()
    user_id = p.add_active_user(site.admin, username, email, enroll_password)
    site.created.append(user_id)
    steps.run("require MFA", p.require_mfa, site.admin, user_id, days, site.clock)
    until = site.admin.get_user(user_id).mfa.exclusion_until
    assert until is not None
    assert until.timestamp() == pytest.approx(site.clock.now() + days * DAY, abs=60)

    # Seen from a clock two days behind the console's, the same end date is two days off:
    # the step says how far ahead the grace period really ends.
    behind = VirtualClock(site.clock.now() - 2 * DAY)
    with pytest.raises(StepFailed) as failure:
        steps.run("require MFA again", p.require_mfa, site.admin, user_id, days, behind)
    assert f"the grace period ends {days + 2}.00 days from now" in failure.value.reason
    assert failure.value.reason.endswith(f"expected {days}")


@pytest.mark.parametrize(
    ("fault", "step", "reason"),
    [
        ("seed_lost_on_power_cycle", "press button and read code", "display stayed blank"),
        ("clock_not_set_by_sync", "Verify Your Account: submit the code", "rejected"),
    ],
)
def test_faulty_token_fails_at_the_named_step(
    fault: str,
    step: str,
    reason: str,
    enroll_site: EnrollSite,
    api_portal: PortalClient,
    pty_token_factory: EnrollTokenFactory,
    enroll_password: SecretText,
    steps: StepRunner,
) -> None:
    """A token fault surfaces as the step where a user would have seen it go wrong."""
    with pytest.raises(StepFailed) as failure:
        _enrolled(
            steps,
            enroll_site,
            api_portal,
            enroll_password,
            pty_token_factory,
            faults=(fault,),
            rtc_offset=-400.0,  # only a burn that sets the clock hides this
        )
    assert failure.value.step == step
    assert reason in failure.value.reason
    assert not api_portal.totp_active()
