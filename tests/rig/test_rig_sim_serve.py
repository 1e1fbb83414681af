"""``tokenrig sim serve`` as a separate process: the conformance suite passes against it, and
killing it mid-command is a clear error, not a hang."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenrig.harness.tokens.base import InfrastructureError
from tokenrig.harness.transports.rig_client import RigClient

REPO = Path(__file__).resolve().parents[2]
TOKENRIG = [sys.executable, "-m", "tokenrig"]


def _serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*TOKENRIG, "sim", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    where = proc.stdout.readline().strip()
    if not where:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        pytest.fail(f"tokenrig sim serve printed no address: {err}")
    return proc, where


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.terminate()
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return code


@pytest.fixture
def pty_server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, path = _serve("--pty", "--slots", "3", "--fault", "2=off_by_one_step")
    try:
        yield proc, path
    finally:
        if proc.poll() is None:
            _stop(proc)


def test_conformance_suite_passes_against_sim_serve_pty(
    pty_server: tuple[subprocess.Popen[str], str],
) -> None:
    _, path = pty_server
    assert path.startswith("/dev/pts/")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tokenrig/suites/rig_conformance",
            "--rig",
            path,
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:xdist",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    assert "skipped" not in run.stdout  # the sim rig programs tokens: every check ran


def test_hil_tests_are_skipped_with_a_reason_without_a_real_rig() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/rig/test_rig_hil.py", "-q", "-rs"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert "needs a real token rig: give one with --rig FILE|URL" in run.stdout
    assert "16 skipped" in run.stdout  # 2 tests x 8 slots of the default simulated rig


def test_killing_the_server_mid_command_names_rig_and_slot(
    pty_server: tuple[subprocess.Popen[str], str],
) -> None:
    proc, path = pty_server
    client = RigClient(path, name="spawned").open()
    assert client.slot_count() == 3
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            client.call("WATCH?", 3, 60_000, slot=3, timeout=62)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    threading.Timer(0.3, proc.kill).start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "client hung after the rig process died"
    assert len(errors) == 1
    assert isinstance(errors[0], InfrastructureError)
    assert "rig spawned slot 3" in str(errors[0])
    client.close()


def test_sim_serve_tcp_prints_a_socket_url_and_stops_on_sigterm() -> None:
    proc, url = _serve("--tcp", "127.0.0.1:0", "--slots", "2")
    try:
        assert url.startswith("socket://127.0.0.1:")
        with RigClient(url, name="tcp") as client:
            assert client.slot_count() == 2
    finally:
        assert _stop(proc) == 0


@pytest.mark.parametrize("where", ["127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:x"])
def test_sim_serve_rejects_a_bad_tcp_port_with_exit_2(where: str) -> None:
    proc = subprocess.run(
        [*TOKENRIG, "sim", "serve", "--tcp", where, "--slots", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"--tcp {where!r}" in proc.stderr
