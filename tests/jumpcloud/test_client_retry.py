"""Client retries, backoff, Retry-After and the total time budget, against the emulator's
injected faults. The client sleeps on a virtual clock, so waits are measured, not waited."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud import (
    BadRequest,
    JumpCloudClient,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
)
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS
from tokenrig.harness.jumpcloud.retry import parse_retry_after


def add_fault(emu: Emulator, **fault: Any) -> None:
    response = requests.post(
        emu.url + "/__emulator__/faults", json=fault, headers=CONTROL_HEADERS, timeout=5
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def client_clock() -> VirtualClock:
    return VirtualClock(start=1_000_000.0)


@pytest.fixture
def client(
    fresh_emulator: Emulator, emulator_key: str, client_clock: VirtualClock
) -> JumpCloudClient:
    policy = RetryPolicy(max_attempts=4, base=1.0, cap=8.0, total=30.0, jitter=0.0)
    return JumpCloudClient.connect(
        fresh_emulator.url, emulator_key, retry=policy, clock=client_clock
    )


def test_5xx_is_retried_with_exponential_backoff(
    fresh_emulator: Emulator, client: JumpCloudClient, client_clock: VirtualClock
) -> None:
    add_fault(fresh_emulator, path="^/api/systemusers$", status=502, count=2)
    page = client.list_users()
    assert page.total_count == 0
    assert client.requests_sent == 3
    assert client_clock.now() - 1_000_000.0 == pytest.approx(1.0 + 2.0)  # base, then doubled


def test_retry_after_is_honoured(
    fresh_emulator: Emulator, client: JumpCloudClient, client_clock: VirtualClock
) -> None:
    add_fault(fresh_emulator, status=429, retry_after=5, count=1)
    client.list_users()
    assert client_clock.now() - 1_000_000.0 == pytest.approx(5.0)


def test_gives_up_after_max_attempts_with_typed_error(
    fresh_emulator: Emulator, client: JumpCloudClient
) -> None:
    add_fault(fresh_emulator, status=503, count=10)
    with pytest.raises(ServerError) as caught:
        client.list_users()
    assert caught.value.status == 503
    assert caught.value.message == "Service Unavailable"
    assert client.requests_sent == 4


def test_total_time_budget_bounds_the_waits(
    fresh_emulator: Emulator, emulator_key: str, client_clock: VirtualClock
) -> None:
    policy = RetryPolicy(max_attempts=50, base=1.0, cap=60.0, total=10.0, jitter=0.0)
    client = JumpCloudClient.connect(
        fresh_emulator.url, emulator_key, retry=policy, clock=client_clock
    )
    add_fault(fresh_emulator, status=429, retry_after=4, count=50)
    with pytest.raises(RateLimited):
        client.list_users()
    assert client_clock.now() - 1_000_000.0 <= 10.0
    assert client.requests_sent == 3  # waits of 4 + 4 fit in 10 s, a third would not


def test_4xx_is_not_retried(fresh_emulator: Emulator, client: JumpCloudClient) -> None:
    with pytest.raises(BadRequest):
        client.list_users(limit=500)
    assert client.requests_sent == 1


def test_reset_connection_retried_for_get_not_for_post(
    fresh_emulator: Emulator, client: JumpCloudClient
) -> None:
    add_fault(fresh_emulator, path="^/api/systemusers$", reset=True, count=1)
    assert client.list_users().total_count == 0
    assert client.requests_sent == 2
    add_fault(fresh_emulator, path="^/api/systemusers$", reset=True, count=1)
    with pytest.raises(TransportError):
        client.create_user("resetme", "resetme@example.test")  # a POST may have happened
    assert client.find_user("resetme") is None  # the fault fired before the handler


def test_rate_limited_service_is_ridden_out(fresh_emulator: Emulator, emulator_key: str) -> None:
    """Real waits: a 2 req/s limit with burst 2 and four calls needs about one second."""
    limit = requests.put(
        fresh_emulator.url + "/__emulator__/rate-limit",
        json={"rate": 2, "burst": 2},
        headers=CONTROL_HEADERS,
        timeout=5,
    )
    assert limit.status_code == 200
    client = JumpCloudClient.connect(
        fresh_emulator.url, emulator_key, retry=RetryPolicy(total=20, jitter=0)
    )
    for _ in range(4):
        client.list_users()
    assert client.requests_sent > 4  # some were answered 429 and repeated


def test_connection_refused_is_transport_error(
    emulator_key: str, client_clock: VirtualClock
) -> None:
    with Emulator(api_key=emulator_key) as emu:
        url = emu.url
    client = JumpCloudClient.connect(
        url, emulator_key, retry=RetryPolicy(max_attempts=2, jitter=0), clock=client_clock
    )
    with pytest.raises(TransportError) as caught:
        client.list_users()
    assert caught.value.status == 0


def test_key_never_logged_or_in_errors(
    fresh_emulator: Emulator,
    emulator_key: str,
    client: JumpCloudClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    add_fault(fresh_emulator, status=500, count=10)
    with pytest.raises(ServerError) as caught:
        client.list_users()
    assert emulator_key not in caplog.text
    assert emulator_key not in str(caught.value)
    assert emulator_key not in repr(client) + repr(client.config)
    assert "retrying" in caplog.text


@pytest.mark.parametrize(
    ("header", "seconds"), [("7", 7.0), (None, None), ("soon", None), ("", None)]
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == pytest.approx(60.0)


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base=-1)


def test_create_whose_answer_was_lost_returns_the_user_once(
    fresh_emulator: Emulator, client: JumpCloudClient
) -> None:
    # The emulator creates the user, then answers 502; the retry hits "already exists".
    add_fault(fresh_emulator, path="^/api/systemusers$", status=502, after=True)
    user = client.create_user("lostanswer", "lostanswer@example.test")
    assert user.username == "lostanswer"
    assert client.requests_sent == 3  # POST (502 after commit), POST (400), GET lookup
    with fresh_emulator.state.lock:
        names = [u.username for u in fresh_emulator.state.users.values()]
    assert names == ["lostanswer"]


def test_retried_create_colliding_with_someone_elses_user_still_fails(
    fresh_emulator: Emulator, client: JumpCloudClient
) -> None:
    client.create_user("taken", "owner@example.test")
    add_fault(fresh_emulator, path="^/api/systemusers$", status=502)  # before the handler
    with pytest.raises(BadRequest, match="already exists") as caught:
        client.create_user("taken", "intruder@example.test")
    assert caught.value.attempts == 2


def test_first_attempt_already_exists_is_not_looked_up(
    fresh_emulator: Emulator, client: JumpCloudClient
) -> None:
    client.create_user("twice", "twice@example.test")
    sent = client.requests_sent
    with pytest.raises(BadRequest, match="already exists"):
        client.create_user("twice", "twice@example.test")
    assert client.requests_sent == sent + 1  # no lookup: nothing was retried
