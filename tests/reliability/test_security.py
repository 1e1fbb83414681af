"""Security of what the harness serves: loopback only, keys checked on every console route, one
org blind to another, TOTP guessing bounded per user, and no TOTP secret handed out after
enrollment.

Listening sockets are checked where the kernel keeps them (``/proc/net/tcp*``), not only in the
server object, so a server that binds a second socket elsewhere would be caught too.
"""

from __future__ import annotations

import base64
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tokenrig.fixtures.rig import start_ser2net
from tokenrig.harness.clock import SYSTEM_CLOCK, VirtualClock
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS
from tokenrig.harness.otp.hotp import totp
from tokenrig.harness.otp.uri import parse_uri
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer, TcpRigServer

ROOT = Path(__file__).resolve().parents[2]
KEY_A = "org-a-key-0b5e11"
KEY_B = "org-b-key-93c4d0"
PASSWORD = "Reliab1lity-Passw0rd"
START = 1_767_225_605.0  # 5 s into a TOTP step


def listening_addresses(port: int) -> set[str]:
    """Local addresses of every TCP socket listening on ``port`` (IPv4 and IPv6)."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A = LISTEN
                continue
            found.add(_address(address, width))
    return found


def _address(hexed: str, width: int) -> str:
    raw = bytes.fromhex(hexed)
    if width == 8:
        return ".".join(str(b) for b in raw[::-1])
    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
    return ":".join(b"".join(words)[i : i + 2].hex() for i in range(0, 16, 2))


# -- loopback only --------------------------------------------------------------------------------


def test_the_emulator_listens_on_loopback_only_by_default() -> None:
    with Emulator() as emulator:
        port = int(emulator.url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"127.0.0.1"}


def test_tokenrig_jumpcloud_serve_listens_on_loopback_only() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tokenrig", "jumpcloud", "serve", "--api-key", KEY_A],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        found = re.search(r"http://([\d.]+):(\d+)", first)
        assert found, first
        assert found.group(1) == "127.0.0.1"
        assert listening_addresses(int(found.group(2))) == {"127.0.0.1"}
        answer = requests.get(found.group(0) + "/api/systemusers", timeout=5)
        assert answer.status_code == 401
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0
    assert KEY_A not in first + out + err


def test_the_tcp_rig_server_listens_on_loopback_only_by_default() -> None:
    rig = SimRig([make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK)
    with TcpRigServer(rig) as server:
        assert listening_addresses(server.port) == {"127.0.0.1"}


def test_ser2net_started_by_the_fixtures_listens_on_loopback_only(tmp_path: Path) -> None:
    rig = SimRig([make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK)
    with PtyRigServer(rig) as server, start_ser2net(server.path, tmp_path) as url:
        port = int(url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"127.0.0.1"}


# -- API keys and organizations -------------------------------------------------------------------


@pytest.fixture
def two_orgs() -> Iterator[Emulator]:
    with Emulator(api_key=KEY_A, clock=VirtualClock(START)) as emulator:
        answer = requests.post(
            emulator.url + "/__emulator__/orgs",
            json={"name": "Other Org", "api_key": KEY_B},
            headers=CONTROL_HEADERS,
            timeout=5,
        )
        assert answer.status_code == 201, answer.text
        yield emulator


def _auth_routes(emulator: Emulator) -> list[tuple[str, str]]:
    """Every route that needs the API key, with its parameters filled in."""
    routes = []
    for route in emulator.router.routes:
        if route.auth:
            path = re.sub(r"\(\?P<\w+>[^)]*\)", "5f0c2a11b3d4e5f6a7b8c9d0", route.pattern.pattern)
            routes.append((route.method, path.replace("\\", "")))
    return routes


def test_every_console_route_refuses_a_missing_empty_or_wrong_key(two_orgs: Emulator) -> None:
    routes = _auth_routes(two_orgs)
    families = {path.split("/")[2] for _, path in routes}
    assert {"systemusers", "search", "organizations", "userportal", "v2"} <= families
    for method, path in routes:
        for headers in ({}, {"x-api-key": ""}, {"x-api-key": KEY_A + "x"}):
            answer = requests.request(
                method, two_orgs.url + path, headers=headers, json={}, timeout=5
            )
            assert answer.status_code == 401, (method, path, headers, answer.text)
            assert KEY_A not in answer.text


def _create(emulator: Emulator, key: str, name: str, **fields: Any) -> dict[str, Any]:
    body = {"username": name, "email": f"{name}@example.test", **fields}
    answer = requests.post(
        emulator.url + "/api/systemusers", json=body, headers={"x-api-key": key}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    user: dict[str, Any] = answer.json()
    return user


def test_one_orgs_users_are_invisible_to_another_orgs_key(two_orgs: Emulator) -> None:
    alice = _create(two_orgs, KEY_A, "alice")
    other = {"x-api-key": KEY_B}
    url = two_orgs.url

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, url + path, headers=other, timeout=5, **kwargs)

    listed = call("GET", "/api/systemusers").json()
    assert listed["totalCount"] == 0
    assert listed["results"] == []
    found = call("POST", "/api/search/systemusers", json={"filter": {"username": "alice"}})
    assert found.json()["totalCount"] == 0
    for method, suffix in (
        ("GET", ""),
        ("PUT", ""),
        ("GET", "/totpinfo"),
        ("POST", "/resetmfa"),
        ("POST", "/unlock"),
        ("POST", "/expire"),
        ("POST", "/state/activate"),
        ("DELETE", ""),
    ):
        answer = call(method, f"/api/systemusers/{alice['_id']}{suffix}", json={"firstname": "X"})
        assert answer.status_code == 404, (method, suffix, answer.text)
        assert "alice" not in answer.text
    bulk = call(
        "POST",
        "/api/v2/bulk/userstates",
        json={"user_ids": [alice["_id"]], "state": "SUSPENDED", "start_date": "2030-01-01T00:00Z"},
    )
    assert bulk.status_code in (400, 404), bulk.text
    # Org A still sees alice exactly as she was.
    mine = requests.get(
        f"{url}/api/systemusers/{alice['_id']}", headers={"x-api-key": KEY_A}, timeout=5
    ).json()
    assert mine["username"] == "alice"
    assert mine.get("firstname", "") == alice.get("firstname", "")
    assert mine["state"] == alice["state"]


# -- portal: TOTP guessing and secrets after enrollment ------------------------------------------


class PortalSession:
    """One browser session on the emulated portal, over its JSON calls."""

    def __init__(self, emulator: Emulator, email: str) -> None:
        self.url = emulator.url
        self.email = email
        self.http = requests.Session()
        self.http.headers["Accept"] = "application/json"

    def post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        xsrf = self.http.get(self.url + "/userconsole/xsrf", timeout=5).json()["xsrf"]
        return self.http.post(
            self.url + path, json=body or {}, headers={"X-Xsrftoken": xsrf}, timeout=5
        )

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.url + path, timeout=5)

    def login(self) -> requests.Response:
        return self.post("/userconsole/auth", {"email": self.email, "password": PASSWORD})


def _portal_user(emulator: Emulator, name: str) -> PortalSession:
    _create(emulator, KEY_A, name, password=PASSWORD)
    return PortalSession(emulator, f"{name}@example.test")


def test_totp_guessing_is_bounded_per_user_across_sessions(two_orgs: Emulator) -> None:
    victim = _portal_user(two_orgs, "victim")
    bystander = _portal_user(two_orgs, "bystander")
    assert victim.login().status_code == 200
    uri = parse_uri(victim.post("/userconsole/api/mfa/totp/setup").json()["otpauthUri"])
    right = totp(uri.secret.reveal(), START)
    judged = 0
    for guess in range(100):
        attacker = PortalSession(two_orgs, victim.email)  # a fresh session for every guess
        if attacker.login().status_code != 200:
            break  # the account is locked: no session, no more guesses
        code = f"{guess:06d}"
        if code == right:
            continue
        answer = attacker.post("/userconsole/api/mfa/totp/verify", {"otp": code})
        if answer.status_code == 401:
            judged += 1
        else:
            assert answer.status_code == 403, answer.text
            judged += 1
            break
    assert 1 <= judged <= 10  # the policy's limit, far below what guessing a code needs
    # Locked: even the right code does not get in any more.
    late = PortalSession(two_orgs, victim.email)
    assert late.login().status_code in (401, 403)
    # The limit is per user: the bystander logs in and enrolls as usual.
    assert bystander.login().status_code == 200
    own = parse_uri(bystander.post("/userconsole/api/mfa/totp/setup").json()["otpauthUri"])
    answer = bystander.post(
        "/userconsole/api/mfa/totp/verify", {"otp": totp(own.secret.reveal(), START)}
    )
    assert answer.status_code == 200, answer.text


def _forms(secret: bytes) -> list[str]:
    b32 = base64.b32encode(secret).decode()
    return [b32, b32.rstrip("="), b32.lower().rstrip("="), secret.hex(), secret.hex().upper()]


def test_no_route_returns_the_totp_secret_after_enrollment(two_orgs: Emulator) -> None:
    user = _portal_user(two_orgs, "enrolled")
    assert user.login().status_code == 200
    uri = parse_uri(user.post("/userconsole/api/mfa/totp/setup").json()["otpauthUri"])
    secret = uri.secret.reveal()
    done = user.post("/userconsole/api/mfa/totp/verify", {"otp": totp(secret, START)})
    assert done.status_code == 200, done.text
    admin = {"x-api-key": KEY_A}
    user_id = requests.get(two_orgs.url + "/api/systemusers", headers=admin, timeout=5).json()[
        "results"
    ][0]["_id"]
    seen: list[str] = []
    for path in (
        "/api/systemusers",
        f"/api/systemusers/{user_id}",
        f"/api/systemusers/{user_id}/totpinfo",
        "/api/userportal/mfa/totp",
        "/__emulator__/outbox",
        "/__emulator__/portal",
    ):
        seen.append(requests.get(two_orgs.url + path, headers=admin, timeout=5).text)
    seen.append(
        requests.post(
            two_orgs.url + "/api/search/systemusers", json={}, headers=admin, timeout=5
        ).text
    )
    for path in (
        "/userconsole/api/self",
        "/userconsole/api/mfa",
        "/userconsole/api/mfa/totp/qr.png",
        "/userconsole/security",
        "/userconsole/mfa/totp/qr",
        "/userconsole/mfa/totp/verify",
        "/userconsole/mfa/totp/success",
        "/userconsole/",
    ):
        answer = user.get(path)
        assert answer.status_code != 200 or "image" not in answer.headers.get("content-type", "")
        seen.append(answer.text)
    everything = "\n".join(seen)
    for form in _forms(secret):
        assert form not in everything
        assert form.lower() not in everything.lower()
