"""The fail-fast check of a real org: one request, no retries, one line naming the URL and the
cause (never the key), at pytest session start and before the CLI touches an org. Every server
here is a real local one: the emulator, a canned answer, a closed port, a silent listener."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from live_servers import Canned, canned_server, closed_port_url, run_inner, silent_server

from tokenrig.harness.cli.main import EXIT_USAGE, main
from tokenrig.harness.jumpcloud import JumpCloudConfig
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.live_check import OrgCheckError, check_org
from tokenrig.harness.secrets import SecretText

KEY = "live-check-key-0123456789abcdef"
HTML = b"<html><body>Welcome to nginx!</body></html>"


def config(url: str, key: str = KEY) -> JumpCloudConfig:
    return JumpCloudConfig(url, SecretText(key, "JumpCloud API key"))


def test_live_check_accepts_the_emulator(fresh_emulator: Emulator, emulator_key: str) -> None:
    found = check_org(config(fresh_emulator.url, emulator_key))
    assert (found.url, found.organizations) == (fresh_emulator.url, 1)


def test_live_check_refuses_a_wrong_key_on_the_emulator(fresh_emulator: Emulator) -> None:
    with pytest.raises(OrgCheckError) as caught:
        check_org(config(fresh_emulator.url, "not-the-key"))
    assert str(caught.value).startswith(f"{fresh_emulator.url}: the API key was refused (HTTP 401")
    assert "not-the-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (Canned(401, b'{"message":"Unauthorized"}'), "the API key was refused (HTTP 401: Unauth"),
        (Canned(403, b'{"message":"Forbidden"}'), "the API key was refused (HTTP 403: Forbidden"),
        (Canned(200, HTML, "text/html"), "answered HTTP 200 with not JSON"),
        (Canned(200, b'{"hello": "world"}'), "answered HTTP 200 with JSON without a 'results'"),
        (Canned(404, HTML, "text/html"), "answered HTTP 404 to GET /api/organizations"),
        (Canned(502, b"bad gateway", "text/plain"), "answered HTTP 502 to GET /api/organizations"),
        (
            Canned(302, b"", headers={"Location": "https://sso.example/"}),
            "answered HTTP 302 (redirect to https://sso",
        ),
    ],
    ids=["401", "403", "html", "other-json", "404", "502-not-retried", "redirect"],
)
def test_live_check_names_url_and_cause_in_one_request(answer: Canned, cause: str) -> None:
    with canned_server(answer) as url, pytest.raises(OrgCheckError) as caught:
        check_org(config(url))
    message = str(caught.value)
    assert message.startswith(f"{url}: {cause}"), message
    assert "\n" not in message
    assert KEY not in message
    assert answer.hits == 1  # one request, no retry even for a 502


def test_live_check_blanks_a_key_the_server_echoes() -> None:
    body = json.dumps({"message": f"bad key {KEY}"}).encode()
    with canned_server(Canned(401, body)) as url, pytest.raises(OrgCheckError) as caught:
        check_org(config(url))
    assert KEY not in str(caught.value)
    assert "bad key ***" in str(caught.value)


def test_live_check_nothing_listening_is_connection_refused() -> None:
    url = closed_port_url()
    with pytest.raises(OrgCheckError, match="cannot reach the org: connection refused"):
        check_org(config(url))


def test_live_check_a_server_that_never_answers_stops_at_the_budget() -> None:
    with silent_server() as url, pytest.raises(OrgCheckError) as caught:
        check_org(config(url), budget=1.0)
    assert str(caught.value) == f"{url}: cannot reach the org: no answer within 1 s"


INNER = "def test_uses_the_org(jumpcloud):\n    assert jumpcloud.live\n"


def test_live_session_with_unreachable_org_stops_at_start_with_one_line(tmp_path: Path) -> None:
    url = closed_port_url()
    result = run_inner(tmp_path, INNER, "--jumpcloud", url, key=KEY)
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"ERROR: --jumpcloud {url}: cannot reach the org: connection refused" in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "test_uses_the_org" not in result.stdout


def test_live_session_with_refused_key_stops_after_one_request(tmp_path: Path) -> None:
    answer = Canned(401, b'{"message":"Unauthorized"}')
    with canned_server(answer) as url:
        result = run_inner(tmp_path, INNER, "--jumpcloud", url, key=KEY)
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"--jumpcloud {url}: the API key was refused (HTTP 401" in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert answer.hits == 1


def test_live_session_against_a_reachable_org_runs(
    tmp_path: Path, fresh_emulator: Emulator, emulator_key: str
) -> None:
    result = run_inner(
        tmp_path,
        INNER,
        "--jumpcloud",
        fresh_emulator.url,
        key=emulator_key,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.parametrize("kind", ["refused", "wrong-key", "not-jumpcloud"])
def test_live_cli_sweep_checks_the_org_first(
    kind: str,
    fresh_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JUMPCLOUD_API_KEY", KEY)
    answer = Canned(200, HTML, "text/html")
    with canned_server(answer) as garbage:
        url = {"refused": closed_port_url(), "wrong-key": fresh_emulator.url}.get(kind, garbage)
        code = main(["jumpcloud", "sweep", "--prefix", "tokenrig-", "--jumpcloud", url])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    cause = {
        "refused": "cannot reach the org: connection refused",
        "wrong-key": "the API key was refused (HTTP 401",
        "not-jumpcloud": "answered HTTP 200 with not JSON",
    }[kind]
    assert f"--jumpcloud {url}: {cause}" in err
    assert len(err.strip().splitlines()) == 1
    assert KEY not in err
    assert answer.hits == (1 if kind == "not-jumpcloud" else 0)
