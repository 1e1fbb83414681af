"""The conformance suite must fail a rig that is broken in ways a firmware engineer could ship.

Each mutant is the reference :class:`SimRig` with one behaviour broken, served on TCP by this
process; the conformance suite runs against it in a real ``pytest --rig socket://...``
subprocess and must report the failures. The same subset passes against the unbroken rig, so
the failures come from the mutation, not from the TCP path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import TcpRigServer
from tokenrig.harness.transports.rig_protocol import parse_request

REPO = Path(__file__).resolve().parents[2]
SUITE = "tokenrig/suites/rig_conformance/test_rig_conformance.py"


class WatchNeverSeesChange(SimRig):
    """``WATCH?`` always answers at once: display off, nothing changed."""

    def _watch(self, args: tuple[str, ...]) -> tuple[str, ...]:
        self._token(args, 2)
        return (str(self.rig_ms()), "OFF", "TIMEOUT")


class ClockSyncDoesNothing(SimRig):
    """``TCLK n utc`` answers as the model would, but never sets the clock or erases a seed."""

    def _tclk_write(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 2)
        return ("ERASED" if token.spec.restricted_sync else "KEPT",)


class SeedEchoed(SimRig):
    """Stores the seed, then quotes it in the answer (a debugging leftover)."""

    def handle_line(self, raw: bytes) -> bytes | None:
        answer = super().handle_line(raw)
        try:
            request = parse_request(raw)
        except ValueError:
            return answer
        if answer is not None and request.command == "SEED" and b" OK" in answer:
            return answer.rstrip(b"\n") + b" " + str(request.args[-1]).encode() + b"\n"
        return answer


CASES: dict[str, tuple[type[SimRig], str, list[str]]] = {
    "watch": (
        WatchNeverSeesChange,
        "step_boundary or display_turns_off",
        ["test_watch_sees_the_next_code_across_a_step_boundary"],
    ),
    "tclk": (
        ClockSyncDoesNothing,
        "clock_sync",
        ["test_token_clock_sync_reads_back_and_reports_the_seed_as_the_model_does"],
    ),
    "seed_echo": (SeedEchoed, "no_answer_ever", ["test_no_answer_ever_contains_the_seed"]),
}


@pytest.fixture
def serve() -> Iterator[list[TcpRigServer]]:
    servers: list[TcpRigServer] = []
    yield servers
    for server in servers:
        server.stop()


def _run_suite(rig: SimRig, servers: list[TcpRigServer], keyword: str, tmp: Path) -> str:
    server = TcpRigServer(rig).start()
    servers.append(server)
    env = {**os.environ, "TOKENRIG_LOCK_DIR": str(tmp / "locks")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            SUITE,
            "--rig",
            server.url,
            "-k",
            keyword,
            "-q",
            "-rfE",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"


def _firmware() -> list[SimFirmware | None]:
    return [make_sim_firmware("C302", clock=SYSTEM_CLOCK)]


@pytest.mark.parametrize("mutant", sorted(CASES))
def test_the_suite_fails_a_broken_rig(
    mutant: str, serve: list[TcpRigServer], tmp_path: Path
) -> None:
    kind, keyword, must_fail = CASES[mutant]
    rig = kind(_firmware(), clock=SYSTEM_CLOCK)
    out = _run_suite(rig, serve, keyword, tmp_path)
    assert out.startswith("exit 1\n"), out
    for name in must_fail:
        assert f"FAILED {SUITE}::{name}" in out, out


def test_the_same_checks_pass_against_the_unbroken_rig(
    serve: list[TcpRigServer], tmp_path: Path
) -> None:
    # The 15 s display-timeout check is left out here; the default run checks it on a pty.
    keyword = "step_boundary or clock_sync or no_answer_ever"
    out = _run_suite(SimRig(_firmware(), clock=SYSTEM_CLOCK), serve, keyword, tmp_path)
    assert out.startswith("exit 0\n"), out
    assert "3 passed" in out, out
