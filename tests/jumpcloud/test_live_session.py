"""A live session that stays safe when the org misbehaves: after the first unanswered call
nothing more is sent (counted in connection attempts, not seconds), a session whose org went
away cannot pass, and org-wide changes are put back at session end even after failures.

"Live" here is the emulator reached over ``--jumpcloud URL`` with its key, in a child pytest
session, exactly as a real org would be.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from live_servers import closed_port_url, run_inner

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud import JumpCloudClient, RetryPolicy, TransportError
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS
from tokenrig.harness.jumpcloud.retry import CircuitBreaker

BUDGET = 1000
"""Reset faults armed on the emulator; how many are left afterwards counts the attempts."""


def test_live_breaker_stops_every_later_call_after_one_unanswered_call() -> None:
    breaker = CircuitBreaker()
    policy = RetryPolicy(max_attempts=3, base=1.0, cap=4.0, total=30.0, jitter=0.0)
    url = closed_port_url()
    first = JumpCloudClient.connect(url, "k", retry=policy, clock=VirtualClock(), breaker=breaker)
    with pytest.raises(TransportError, match="connection failed"):
        first.list_users()
    assert first.requests_sent == 3  # the retry budget, paid once
    with pytest.raises(TransportError, match=f"not sent: {url} stopped answering"):
        first.get_user("a" * 24)
    other = JumpCloudClient.connect(url, "k", retry=policy, clock=VirtualClock(), breaker=breaker)
    with pytest.raises(TransportError, match="not sent"):
        other.delete_user("a" * 24)
    assert (first.requests_sent, other.requests_sent, breaker.refused) == (3, 0, 2)


def test_live_breaker_is_not_tripped_by_http_errors(
    fresh_emulator: Emulator, emulator_key: str
) -> None:
    breaker = CircuitBreaker()
    client = JumpCloudClient.connect(fresh_emulator.url, "wrong", breaker=breaker)
    with pytest.raises(Exception, match="HTTP 401"):
        client.list_users()
    assert not breaker.tripped  # an answer, even a refusal, is not an outage


GOES_AWAY = f"""
import requests

def test_1_works(jc_user):
    jc_user()

def test_2_org_goes_away(jc_user, jumpcloud, jc_client):
    jc_user()
    requests.post(jumpcloud.url + "/__emulator__/faults", headers={CONTROL_HEADERS!r},
                  json={{"reset": True, "count": {BUDGET}}}, timeout=5).raise_for_status()
    jc_client.list_users()

def test_3_later(jc_user):
    jc_user()

def test_4_later(jc_client):
    jc_client.list_users()

def test_5_later(jumpcloud):
    pass
"""


def _faults_left(emulator: Emulator) -> int:
    listing = requests.get(
        emulator.url + "/__emulator__/faults", headers=CONTROL_HEADERS, timeout=5
    ).json()
    return sum(fault["count"] for fault in listing["faults"])


def test_live_org_going_away_mid_session_costs_one_retry_budget(
    tmp_path: Path, emulator_key: str
) -> None:
    with Emulator(api_key=emulator_key) as emulator:
        url = emulator.url
        result = run_inner(tmp_path, GOES_AWAY, "--jumpcloud", url, key=emulator_key)
        attempts = BUDGET - _faults_left(emulator)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "1 failed, 1 passed, 3 skipped" in out, out
    # One call's retry budget (RetryPolicy().max_attempts = 5) and not one attempt more: test
    # 2's own teardown and tests 3-5 sent nothing.
    assert attempts == RetryPolicy().max_attempts, out
    assert f"not run: {url} stopped answering" in out
    assert "later call(s) not sent" in out


ONLY_TEARDOWN = f"""
import requests

def test_1_passes_but_its_cleanup_meets_an_outage(jc_user, jumpcloud):
    jc_user()
    requests.post(jumpcloud.url + "/__emulator__/faults", headers={CONTROL_HEADERS!r},
                  json={{"reset": True, "count": {BUDGET}}}, timeout=5).raise_for_status()

def test_2_later(jc_user):
    jc_user()
"""


def test_live_session_whose_org_went_away_cannot_pass(tmp_path: Path, emulator_key: str) -> None:
    with Emulator(api_key=emulator_key) as emulator:
        result = run_inner(tmp_path, ONLY_TEARDOWN, "--jumpcloud", emulator.url, key=emulator_key)
        attempts = BUDGET - _faults_left(emulator)
    assert "1 passed, 1 skipped" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 1  # no test failed, yet the org went away: not a pass
    assert attempts == RetryPolicy().max_attempts


CHANGES_ORG = """
def test_changes_the_org_then_fails(jc_client):
    jc_client.set_totp_factor(not START)
    jc_client.update_organization_settings({"contactName": "changed by tokenrig"})
    jc_client.set_totp_factor(START)
    jc_client.set_totp_factor(not START)
    assert False, "deliberate failure"

def test_changes_it_again_then_errors(jumpcloud):
    with jumpcloud.client() as client:
        client.update_organization_settings({"contactName": "changed again"})
    raise RuntimeError("deliberate error")
"""


@pytest.mark.parametrize("start", [False, True], ids=["factor-off", "factor-on"])
def test_live_org_changes_are_restored_after_a_failing_run(
    start: bool, tmp_path: Path, emulator_key: str
) -> None:
    with Emulator(api_key=emulator_key) as emulator:
        admin = JumpCloudClient.connect(emulator.url, emulator_key)
        admin.set_totp_factor(start)
        admin.update_organization_settings({"contactName": "The Admin"})
        source = f"START = {start!r}\n" + CHANGES_ORG
        result = run_inner(tmp_path, source, "--jumpcloud", emulator.url, key=emulator_key)
        after_factor = admin.totp_factor().enabled
        after_name = admin.organization().settings.get("contactName")
        url = emulator.url
    out = result.stdout
    assert "2 failed" in out
    assert result.returncode == 1, out + result.stderr
    assert after_factor is start, out
    assert after_name == "The Admin", out
    state = "enabled" if start else "disabled"
    assert f"tokenrig: {url}: restored TOTP factor: {state}" in out
    assert f"tokenrig: {url}: restored org settings contactName" in out
    assert emulator_key not in out + result.stderr


LOSES_ORG_AFTER_CHANGE = f"""
import requests

def test_changes_the_factor_then_the_org_goes_away(jc_client, jumpcloud):
    jc_client.set_totp_factor(False)
    requests.post(jumpcloud.url + "/__emulator__/faults", headers={CONTROL_HEADERS!r},
                  json={{"reset": True, "count": {BUDGET}}}, timeout=5).raise_for_status()
    jc_client.list_users()
"""


def test_live_restore_that_cannot_reach_the_org_says_what_to_fix_by_hand(
    tmp_path: Path, emulator_key: str
) -> None:
    with Emulator(api_key=emulator_key) as emulator:
        admin = JumpCloudClient.connect(emulator.url, emulator_key)
        admin.set_totp_factor(True)
        result = run_inner(
            tmp_path, LOSES_ORG_AFTER_CHANGE, "--jumpcloud", emulator.url, key=emulator_key
        )
        attempts = BUDGET - _faults_left(emulator)
        emulator.faults.clear()
        factor = admin.totp_factor().enabled
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "NOT restored: TOTP factor should be enabled" in out, out
    assert "set it in the Admin Console, MFA Configurations" in out
    assert factor is False  # the report is honest: it really was left changed
    # the test's call: one retry budget; the restore: its own short one (3 attempts)
    assert attempts == RetryPolicy().max_attempts + 3


def test_live_cli_sweep_stops_at_the_first_unanswered_deletion(
    fresh_emulator: Emulator,
    emulator_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tokenrig.harness.cli.main import EXIT_FAIL, main

    admin = JumpCloudClient.connect(fresh_emulator.url, emulator_key)
    for n in range(5):
        admin.create_user(f"tokenrig-old-{n}", f"tokenrig-old-{n}@example.test")
    requests.post(
        fresh_emulator.url + "/__emulator__/faults",
        headers=CONTROL_HEADERS,
        json={"path": "^/api/systemusers/[0-9a-f]+$", "reset": True, "count": BUDGET},
        timeout=5,
    ).raise_for_status()
    monkeypatch.setenv("JUMPCLOUD_API_KEY", emulator_key)
    argv = ["jumpcloud", "sweep", "--prefix", "tokenrig-", "--jumpcloud", fresh_emulator.url]
    assert main(argv) == EXIT_FAIL
    captured = capsys.readouterr()
    assert "5 user(s) left; run sweep again" in captured.err
    assert BUDGET - _faults_left(fresh_emulator) == RetryPolicy().max_attempts  # not 5 x 5
