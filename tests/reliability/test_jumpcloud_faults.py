"""JumpCloud misbehaving: 429 storms, 5xx, timeouts and connection resets.

The emulator's fault injection (``/__emulator__/faults``) makes the service misbehave *before*
its handler runs; a small TCP proxy here makes it misbehave *after* the request was processed
(the answer lost on the way back), which is the case that decides whether a retried POST can
create a user twice. The client must retry within its bounds, end with a typed error that says
what happened, and never leave two users where the test asked for one.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import tokenrig.harness.jumpcloud.client as client_module
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud import (
    JumpCloudClient,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
)
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS

KEY = "reliability-key-5f0c2a"
POLICY = RetryPolicy(max_attempts=5, base=1.0, cap=8.0, total=60.0, jitter=0.0)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=KEY, clock=VirtualClock()) as emu:
        yield emu


def _client(url: str, clock: VirtualClock | None = None) -> JumpCloudClient:
    """A client that sleeps on a virtual clock: its backoff is measured, not waited."""
    return JumpCloudClient.connect(
        url, KEY, retry=POLICY, clock=clock or VirtualClock(start=1_000_000.0)
    )


def _fault(emu: Emulator, **fault: Any) -> None:
    answer = requests.post(
        emu.url + "/__emulator__/faults", json=fault, headers=CONTROL_HEADERS, timeout=5
    )
    assert answer.status_code == 201, answer.text


def _usernames(emu: Emulator) -> list[str]:
    with _client(emu.url) as admin:
        return sorted(u.username for u in admin.iter_users())


def test_a_429_storm_ends_in_rate_limited_after_the_bounded_attempts(emulator: Emulator) -> None:
    _fault(emulator, path="^/api/systemusers$", status=429, retry_after=3, count=100)
    clock = VirtualClock(start=1_000_000.0)
    with _client(emulator.url, clock) as client, pytest.raises(RateLimited) as caught:
        client.list_users()
    assert client.requests_sent == POLICY.max_attempts
    assert caught.value.status == 429
    assert clock.now() - 1_000_000.0 == pytest.approx(3.0 * (POLICY.max_attempts - 1))
    assert KEY not in str(caught.value)


def test_a_5xx_storm_on_create_reports_the_outage_and_creates_nobody(emulator: Emulator) -> None:
    _fault(emulator, path="^/api/systemusers$", status=503, count=100)
    with _client(emulator.url) as client, pytest.raises(ServerError) as caught:
        client.create_user("tokenrig-storm", "storm@example.test")
    assert caught.value.status == 503
    assert "POST /api/systemusers" in str(caught.value)
    assert client.requests_sent == POLICY.max_attempts
    requests.delete(emulator.url + "/__emulator__/faults", headers=CONTROL_HEADERS, timeout=5)
    assert _usernames(emulator) == []


def test_a_few_5xx_then_success_creates_exactly_one_user(emulator: Emulator) -> None:
    _fault(emulator, path="^/api/systemusers$", status=502, count=2)
    with _client(emulator.url) as client:
        user = client.create_user("tokenrig-flaky", "flaky@example.test")
    assert client.requests_sent == 3
    assert _usernames(emulator) == [user.username]


def test_a_timed_out_create_is_not_repeated_and_the_user_exists_once(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server answers too late: it did create the user. A repeat would be a second POST."""
    monkeypatch.setattr(client_module, "TIMEOUT", (2.0, 0.3))
    _fault(emulator, path="^/api/systemusers$", latency=1.0, count=1)
    with _client(emulator.url) as client, pytest.raises(TransportError, match="timed out"):
        client.create_user("tokenrig-slow", "slow@example.test")
    assert client.requests_sent == 1
    with _client(emulator.url) as admin:
        _wait_for_user(admin, "tokenrig-slow")
    assert _usernames(emulator) == ["tokenrig-slow"]


def test_a_timed_out_read_is_repeated(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "TIMEOUT", (2.0, 0.3))
    _fault(emulator, path="^/api/systemusers$", latency=1.0, count=1)
    with _client(emulator.url) as client:
        assert client.list_users().total_count == 0
    assert client.requests_sent == 2


def _wait_for_user(client: JumpCloudClient, username: str) -> None:
    """The slow handler finishes after the client gave up; give it a bounded moment."""
    for _ in range(100):
        if client.find_user(username) is not None:
            return
        threading.Event().wait(0.05)
    pytest.fail(f"{username} never appeared")


class AnswerLosingProxy:
    """Forwards one HTTP request at a time to ``target`` and then, instead of the answer,
    either resets the connection (``mode="reset"``) or answers 502 (``mode="502"``); later
    answers pass through."""

    def __init__(self, target: str, mode: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.mode = mode
        self.forwarded = 0
        self.sabotage = True
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> AnswerLosingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)  # an idle keep-alive connection is closed after 2 s
                with contextlib.suppress(OSError):
                    while self._serve_one(conn):
                        pass

    def _serve_one(self, conn: socket.socket) -> bool:
        request = _read_http_message(conn)
        if request is None:
            return False
        with socket.create_connection(self.target, timeout=5) as upstream:
            upstream.sendall(request)
            answer = _read_http_message(upstream)
        self.forwarded += 1
        sabotage, self.sabotage = self.sabotage, False  # only the first answer is lost
        if not sabotage:
            conn.sendall(answer or b"")
            return True
        if self.mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        body = b'{"message":"Bad Gateway"}'
        conn.sendall(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        return True


def _read_http_message(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_connection_reset_after_the_create_was_processed_is_not_repeated(
    emulator: Emulator,
) -> None:
    with AnswerLosingProxy(emulator.url, "reset") as proxy:
        with _client(proxy.url) as client, pytest.raises(TransportError) as caught:
            client.create_user("tokenrig-lost", "lost@example.test")
        assert proxy.forwarded == 1
        assert client.requests_sent == 1
    assert "POST /api/systemusers" in str(caught.value)
    assert _usernames(emulator) == ["tokenrig-lost"]


def test_a_502_after_the_create_was_processed_cannot_create_the_user_twice(
    emulator: Emulator,
) -> None:
    """The client repeats a POST answered 5xx (JumpCloud's own CLI does too). Usernames are
    unique, so the repeat is refused and never makes a second user; the client then finds the
    user its lost first attempt made (same username and email) and returns it."""
    with AnswerLosingProxy(emulator.url, "502") as proxy:
        with _client(proxy.url) as client:
            user = client.create_user("tokenrig-twice", "twice@example.test")
        assert user.username == "tokenrig-twice"
        assert user.email == "twice@example.test"
        assert proxy.forwarded == 3  # POST (answer lost), POST ("already exists"), GET lookup
    assert _usernames(emulator) == ["tokenrig-twice"]


def test_the_emulator_keeps_serving_after_resets_and_storms(emulator: Emulator) -> None:
    _fault(emulator, path="^/api/", reset=True, count=5)
    for _ in range(5):
        with pytest.raises(requests.ConnectionError):
            requests.get(emulator.url + "/api/systemusers", headers={"x-api-key": KEY}, timeout=5)
    with _client(emulator.url) as client:
        client.create_user("tokenrig-after", "after@example.test")
    assert _usernames(emulator) == ["tokenrig-after"]
