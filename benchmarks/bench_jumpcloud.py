"""Load on the JumpCloud emulator: 20 concurrent clients create, read and delete 1,000 users.

Run: ``.venv/bin/pytest benchmarks/bench_jumpcloud.py --benchmark-only``. Correctness is
asserted (no error, no lost or duplicated user); speed is reported (requests/s in ``extra_info``
and as a line on the terminal, shown without ``-s``), never asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tokenrig.harness.jumpcloud import JumpCloudClient
from tokenrig.harness.jumpcloud.emulator import Emulator

CLIENTS = 20
USERS = 1_000
KEY = "bench-key-0123456789abcdef"


def _client_work(url: str, worker: int) -> tuple[list[str], int]:
    """Create this worker's share of users, read each back, delete it; return ids + requests."""
    ids: list[str] = []
    with JumpCloudClient.connect(url, KEY) as client:
        for n in range(worker, USERS, CLIENTS):
            username = f"load-{n:04d}"
            user = client.create_user(username, f"{username}@example.test")
            assert client.get_user(user.id).username == username
            ids.append(user.id)
        seen = {u.id for u in client.iter_users(filters=[f"username:$eq:load-{worker:04d}"])}
        assert seen == {ids[0]}
        for user_id in ids:
            client.delete_user(user_id)
        return ids, client.requests_sent


@pytest.fixture
def report_line(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """Write a line to the terminal even while pytest captures output (so no ``-s`` needed)."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    terminal = pytestconfig.pluginmanager.getplugin("terminalreporter")

    def write(line: str) -> None:
        if capture is None or terminal is None:
            print(line)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(line)

    return write


def test_twenty_clients_thousand_users(benchmark: Any, report_line: Callable[[str], None]) -> None:
    results: dict[str, Any] = {}

    def run(url: str) -> None:
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            outcomes = list(pool.map(lambda w: _client_work(url, w), range(CLIENTS)))
        elapsed = time.perf_counter() - started
        results["ids"] = [i for ids, _ in outcomes for i in ids]
        results["requests"] = sum(sent for _, sent in outcomes)
        results["elapsed"] = elapsed

    with Emulator(api_key=KEY) as emulator:
        target: Callable[[], None] = lambda: run(emulator.url)  # noqa: E731
        benchmark.pedantic(target, rounds=1, iterations=1)
        with JumpCloudClient.connect(emulator.url, KEY) as check:
            assert check.list_users().total_count == 0  # every user deleted
    ids = results["ids"]
    assert len(ids) == USERS
    assert len(set(ids)) == USERS  # none duplicated
    rate = results["requests"] / results["elapsed"]
    benchmark.extra_info["requests"] = results["requests"]
    benchmark.extra_info["requests_per_second"] = round(rate, 1)
    sent, elapsed = results["requests"], results["elapsed"]
    report_line(
        f"\n{CLIENTS} clients, {USERS} users: {sent} requests in {elapsed:.2f} s = {rate:.0f} req/s"
    )
