"""How long one enrollment takes, end to end, against the JumpCloud emulator with a simulated
token on a real pty rig: the administrator's path over the portal's JSON calls and in headless
Chromium, and the self-service path over the JSON calls.

The enrollment suite must stay under a few minutes on a 2-core machine; these numbers say what
one path costs and which step costs most. Time runs on the shared virtual clock, so waiting for
a fresh time step costs nothing: what is measured is the harness, the emulator, the serial rig
and the browser. Each round enrolls a new user with a new token; every round's enrollment is
checked (ENROLLED on the console), its speed only reported (``extra_info``, stdout).

Run: ``.venv/bin/pytest benchmarks/bench_enroll.py --benchmark-only``.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tokenrig.fixtures.enrollment as enrollment_fixtures
from tokenrig.fixtures.enrollment import (
    PORTAL_ONLY_EMULATED,
    EnrollSite,
    EnrollTokenFactory,
    chromium_session,
)
from tokenrig.harness.enroll.portal import UserPortal
from tokenrig.harness.enroll.procedure import Enrollment, admin_path, self_service_path
from tokenrig.harness.enroll.steps import StepRunner
from tokenrig.harness.jumpcloud import MfaStatus
from tokenrig.harness.jumpcloud.portal_client import PortalClient
from tokenrig.harness.jumpcloud.portal_driver import ChromiumSession, PortalDriver

API_ROUNDS = 5
BROWSER_ROUNDS = 2

PathRunner = Callable[..., Enrollment]
PortalMaker = Callable[[contextlib.ExitStack], UserPortal]


@pytest.fixture(scope="module")
def chromium() -> Iterator[ChromiumSession]:
    yield from chromium_session()


def _run_rounds(
    benchmark: Any,
    site: EnrollSite,
    tokens: EnrollTokenFactory,
    new_portal: PortalMaker,
    path: PathRunner,
    rounds: int,
    **path_kwargs: Any,
) -> None:
    """Benchmark ``path`` for ``rounds`` fresh users, tokens and portal sessions; check each."""
    if site.live:
        pytest.skip(PORTAL_ONLY_EMULATED)
    runners: list[StepRunner] = []
    enrollments: list[Enrollment] = []

    with contextlib.ExitStack() as sessions:

        def setup() -> tuple[tuple[()], dict[str, Any]]:
            username, email = site.new_user()
            runner = StepRunner()
            runners.append(runner)
            kwargs = {
                "runner": runner,
                "admin": site.admin,
                "portal": new_portal(sessions),
                "token": tokens("C302"),
                "clock": site.clock,
                "username": username,
                "email": email,
                "password": enrollment_fixtures.new_password(),  # as the fixtures make one
                "created": site.created,
                **path_kwargs,
            }
            return (), kwargs

        def enroll(runner: StepRunner, **kwargs: Any) -> None:
            enrollments.append(path(runner, **kwargs))

        benchmark.pedantic(enroll, setup=setup, rounds=rounds, iterations=1)

    assert enrollments, "no round ran"
    for enrollment in enrollments:
        status = site.admin.get_user(enrollment.enrollee.user_id).mfa_enrollment.totp
        assert status is MfaStatus.ENROLLED
    _report(benchmark, runners)


def _report(benchmark: Any, runners: list[StepRunner]) -> None:
    """Steps per enrollment and the step that took longest (median over the rounds)."""
    by_step: dict[str, list[float]] = {}
    for runner in runners:
        for record in runner.records:
            by_step.setdefault(record.name, []).append(record.seconds)
    medians = {name: statistics.median(times) for name, times in by_step.items()}
    slowest = max(medians, key=lambda name: medians[name])
    total = statistics.median(sum(r.seconds for r in runner.records) for runner in runners)
    benchmark.extra_info["steps"] = len(runners[0].records)
    benchmark.extra_info["median_seconds_in_steps"] = round(total, 3)
    benchmark.extra_info["slowest_step"] = slowest
    benchmark.extra_info["slowest_step_median_seconds"] = round(medians[slowest], 3)
    print(
        f"\n{len(runners)} enrollment(s), {len(runners[0].records)} steps, median {total:.2f} s; "
        f"slowest step {slowest!r}: {medians[slowest]:.2f} s"
    )


def _api_portal(site: EnrollSite) -> PortalMaker:
    def make(sessions: contextlib.ExitStack) -> UserPortal:
        return sessions.enter_context(PortalClient(site.url))

    return make


def _browser_portal(site: EnrollSite, chromium: ChromiumSession) -> PortalMaker:
    def make(sessions: contextlib.ExitStack) -> UserPortal:
        return PortalDriver(chromium.page(), site.url)

    return make


def test_seconds_per_admin_path_over_the_portal_api_with_a_pty_rig_token(
    benchmark: Any, enroll_site: EnrollSite, pty_token_factory: EnrollTokenFactory
) -> None:
    assert enroll_site.mailbox is not None
    _run_rounds(
        benchmark,
        enroll_site,
        pty_token_factory,
        _api_portal(enroll_site),
        admin_path,
        API_ROUNDS,
        mailbox=enroll_site.mailbox,
    )


@pytest.mark.browser
def test_seconds_per_admin_path_in_headless_chromium_with_a_pty_rig_token(
    benchmark: Any,
    enroll_site: EnrollSite,
    pty_token_factory: EnrollTokenFactory,
    chromium: ChromiumSession,
) -> None:
    assert enroll_site.mailbox is not None
    _run_rounds(
        benchmark,
        enroll_site,
        pty_token_factory,
        _browser_portal(enroll_site, chromium),
        admin_path,
        BROWSER_ROUNDS,
        mailbox=enroll_site.mailbox,
    )


def test_seconds_per_self_service_path_over_the_portal_api_with_a_pty_rig_token(
    benchmark: Any, enroll_site: EnrollSite, pty_token_factory: EnrollTokenFactory
) -> None:
    _run_rounds(
        benchmark,
        enroll_site,
        pty_token_factory,
        _api_portal(enroll_site),
        self_service_path,
        API_ROUNDS,
    )
