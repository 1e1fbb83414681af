"""A rig that breaks under the harness: every failure is an InfrastructureError naming the rig
and the slot, within a bounded time, never a hang and never a verdict on the token.

The link is real (kernel pty, TCP socket, or RFC 2217 through a real ser2net); the rig side is
the simulated rig, bent where a test needs it to misbehave. ``tests/rig/test_rig_link.py``
covers unplugging during a WATCH?, a dropped TCP client, noise and a lost answer; these fill the
remaining cases of the issue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tokenrig.fixtures.rig import start_ser2net
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer, TcpRigServer
from tokenrig.harness.tokens.base import BurnRequest, InfrastructureError, TokenIdentity
from tokenrig.harness.tokens.rig_token import RigToken
from tokenrig.harness.transports.rig_client import RigClient

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 20.0  # a hang shows as a thread still alive after this; not a timing assert


class BentRig(SimRig):
    """A simulated rig whose behaviour a test changes per command: ``on[command](raw)``
    returns the bytes to send instead of the real answer (None = send nothing)."""

    def __init__(self) -> None:
        firmware = make_sim_firmware("C302", clock=SYSTEM_CLOCK)
        super().__init__([firmware, make_sim_firmware("C302", clock=SYSTEM_CLOCK, index=2)],
                         clock=SYSTEM_CLOCK)  # fmt: skip
        self.on: dict[str, Callable[[bytes], bytes | None]] = {}
        self.raw_out: Callable[[bytes], None] | None = None

    def handle_line(self, raw: bytes) -> bytes | None:
        words = raw.split()
        command = words[1].decode(errors="replace") if len(words) > 1 else ""
        hook = self.on.get(command)
        if hook is not None:
            return hook(raw)
        return super().handle_line(raw)


def _token(client: RigClient, slot: int = 2) -> RigToken:
    return RigToken(
        client,
        slot,
        identity=TokenIdentity(f"22010000{slot:02d}", "C302", "1.0"),
        spec=make_sim_firmware("C302", clock=SYSTEM_CLOCK).spec,
    )


def _outcome(action: Callable[[], object]) -> BaseException | None:
    """Run ``action`` in a thread; return what it raised. Fails if it is still running."""
    errors: list[BaseException] = []

    def body() -> None:
        try:
            action()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_S)
    assert not thread.is_alive(), "the harness is still waiting on a broken rig"
    return errors[0] if errors else None


@pytest.fixture
def bent() -> Iterator[tuple[BentRig, PtyRigServer, RigClient]]:
    rig = BentRig()
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="bench-3", timeout=0.5, retries=1).open()
        yield rig, server, client
        client.close()


BURN = BurnRequest(secret=Secret(bytes(range(20)), kind="seed"), clock_time=1_700_000_000)


def test_rig_unplugged_mid_burn_names_rig_and_slot(
    bent: tuple[BentRig, PtyRigServer, RigClient],
) -> None:
    rig, server, client = bent

    def unplug(_raw: bytes) -> None:
        server.unplug()
        return None

    rig.on["SEED"] = unplug
    error = _outcome(lambda: _token(client).burn(BURN))
    assert isinstance(error, InfrastructureError)
    assert "rig bench-3 slot 2" in str(error)
    assert "SEED" in str(error)
    assert "0001020304" not in str(error)  # the seed is not quoted


def test_rig_unplugged_mid_read_names_rig_and_slot(
    bent: tuple[BentRig, PtyRigServer, RigClient],
) -> None:
    rig, server, client = bent
    token = _token(client)
    token.burn(BURN)
    token.press()

    def unplug(_raw: bytes) -> None:
        server.unplug()
        return None

    rig.on["DISP?"] = unplug
    error = _outcome(token.read_display)
    assert isinstance(error, InfrastructureError)
    assert "rig bench-3 slot 2" in str(error)
    # The rig stays diagnosed as gone: the next call fails at once with the same reason.
    again = _outcome(token.press)
    assert isinstance(again, InfrastructureError)
    assert "link lost" in str(again)


def test_a_rig_that_stops_answering_is_waited_for_a_bounded_time(
    bent: tuple[BentRig, PtyRigServer, RigClient],
) -> None:
    rig, _server, client = bent
    token = _token(client)
    token.burn(BURN)
    for command in ("DISP?", "PRESS", "WATCH?", "TCLK?"):
        rig.on[command] = lambda _raw: None
    for action, command, attempts in (
        (token.read_display, "DISP?", 2),  # a query is asked again once (retries=1)
        (token.press, "PRESS", 1),  # a press is never repeated: it changes the display
        (lambda: token.watch_display(0.2), "WATCH?", 2),
        (token.read_clock, "TCLK?", 2),
    ):
        error = _outcome(action)
        assert isinstance(error, InfrastructureError), command
        assert f"rig bench-3 slot 2: {command} got no answer" in str(error)
        assert f"({attempts} attempt(s))" in str(error)


def test_a_partial_answer_then_silence_is_bounded_and_the_link_recovers(
    bent: tuple[BentRig, PtyRigServer, RigClient],
) -> None:
    rig, server, client = bent
    token = _token(client)
    token.burn(BURN)
    token.press()

    def half(raw: bytes) -> None:
        rig.on.pop("DISP?")
        answer = SimRig.handle_line(rig, raw)
        assert answer is not None
        os.write(server._master, answer[: len(answer) // 2])  # no terminator, then nothing
        return None

    rig.on["DISP?"] = half
    reading = token.read_display()  # the retry gets a whole answer; the half one is dropped
    assert reading.code is not None
    assert reading.code.isdigit()
    assert any("no answer" in line for line in client.log.recent(10))


def test_endless_garbage_without_newlines_is_bounded(
    bent: tuple[BentRig, PtyRigServer, RigClient],
) -> None:
    rig, server, client = bent

    def spew(_raw: bytes) -> None:
        os.write(server._master, bytes(range(256)).replace(b"\n", b"") * 40)  # 10 kB, no line
        return None

    rig.on["SLOT?"] = spew
    error = _outcome(lambda: client.slot_info(2))
    assert isinstance(error, InfrastructureError)
    assert "rig bench-3 slot 2: SLOT? got no answer" in str(error)
    assert any("garbage" in line or "bytes" in line for line in client.log.recent(20))


def test_a_non_ascii_answer_with_the_right_tag_is_a_rig_protocol_violation(
    bent: tuple[BentRig, PtyRigServer, RigClient],
) -> None:
    rig, _server, client = bent

    def mojibake(raw: bytes) -> bytes:
        tag = raw.split()[0]
        return tag + b" OK " + "Ä€\xff".encode() + b"\n"

    rig.on["*IDN?"] = mojibake
    error = _outcome(client.identify)
    assert isinstance(error, InfrastructureError)
    # Our own tag on a line that breaks the grammar: the rig's fault, quoted, never a token's.
    assert "rig bench-3: rig protocol violation: *IDN?" in str(error)
    assert "not a token defect" in str(error)


def test_tcp_rig_dropped_mid_burn_names_rig_and_slot() -> None:
    rig = BentRig()
    with TcpRigServer(rig) as server:
        assert server.host == "127.0.0.1"
        client = RigClient(server.url, name="tcp-bench", timeout=0.5).open()

        def drop(_raw: bytes) -> None:
            server.unplug()
            return None

        rig.on["CONF"] = drop
        error = _outcome(lambda: _token(client, slot=1).burn(BURN))
        client.close()
    assert isinstance(error, InfrastructureError)
    assert "rig tcp-bench slot 1" in str(error)


@pytest.mark.filterwarnings("ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning")
def test_rfc2217_connection_dropped_mid_command_names_rig_and_slot(tmp_path: Path) -> None:
    """ser2net is killed while the host waits for a long WATCH?: the host must notice."""
    rig = BentRig()
    with PtyRigServer(rig) as server, start_ser2net(server.path, tmp_path) as url:
        client = RigClient(url, name="remote-bench", timeout=3.0).open()
        token = _token(client, slot=1)
        token.burn(BURN)
        pidfiles = list(tmp_path.glob("ser2net-*.pid"))
        assert len(pidfiles) == 1
        pid = int(pidfiles[0].read_text().split()[0])
        threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
        error = _outcome(lambda: token.watch_display(10.0))
        client.close()
    assert isinstance(error, InfrastructureError)
    assert "rig remote-bench slot 1" in str(error)
    assert "WATCH?" in str(error)


def test_a_request_to_a_rig_unplugged_since_the_last_answer_is_an_infrastructure_error(
    bent: tuple[BentRig, PtyRigServer, RigClient],
) -> None:
    """Found by this audit (mid-burn, one run in a few): the tty hung up between two
    requests made pyserial's flush raise ``termios.error``, which escaped as a raw EIO."""
    _rig, server, client = bent
    client.identify()
    server.unplug()
    error = _outcome(lambda: client.call("PRESS", 2, slot=2))
    assert isinstance(error, InfrastructureError)
    assert "rig bench-3 slot 2: PRESS failed: link lost" in str(error)


def test_a_qualification_run_goes_on_when_one_slot_breaks(tmp_path: Path) -> None:
    """``tokenrig qualify`` on a rig whose slot 2 stops answering mid-run: slot 1 is qualified,
    slot 2 is inconclusive with an error naming rig and slot and no finding against the token."""
    rig = BentRig()

    def mute_slot_2(raw: bytes) -> bytes | None:
        if raw.split()[2:3] == [b"2"]:
            return None
        return SimRig.handle_line(rig, raw)

    rig.on["PRESS"] = mute_slot_2
    with TcpRigServer(rig) as server:
        slots = "".join(
            f'\n[[slots]]\nslot = {i}\nmodel = "C302"\nserial = "{fw.identity.serial}"\n'
            for i, fw in enumerate(rig.slots, start=1)
            if fw is not None
        )
        rig_file = tmp_path / "bench.toml"
        rig_file.write_text(f'name = "bench-9"\nurl = "{server.url}"\ntimeout = 0.5\n{slots}')
        profile = tmp_path / "burn.toml"
        profile.write_text('name = "burn-only"\nprocedures = ["burn"]\n')
        run = subprocess.run(
            [sys.executable, "-m", "tokenrig", "qualify", "--rig", str(rig_file),
             "--profile", str(profile), "--out", str(tmp_path / "out")],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    tokens = {
        t["slot"]: t for t in json.loads((tmp_path / "out" / "records.json").read_text())["tokens"]
    }
    assert tokens[1]["verdict"] == "pass"
    assert tokens[2]["verdict"] == "inconclusive"  # a rig fault is never the token's defect
    assert tokens[2]["findings"] == []  # nothing is said against the token itself
    assert tokens[2]["procedures"]["burn"] == "error"
    assert any("rig bench-9 slot 2: PRESS got no answer" in e for e in tokens[2]["errors"])
