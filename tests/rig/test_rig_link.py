"""The serial link under trouble: unplugging, noise, lost answers, and secrets in the log.

Everything runs over a real kernel pty; the rig side is the simulated rig, bent where a test
needs a misbehaving rig (dropping an answer, talking noise).
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer, TcpRigServer
from tokenrig.harness.tokens.base import BurnRequest, InfrastructureError, TokenIdentity
from tokenrig.harness.tokens.rig_token import RigToken
from tokenrig.harness.transports.rig_client import RigClient, RigCommandError, RigUnsupported
from tokenrig.harness.transports.wire_log import WireLog

SEED = bytes(range(0xA0, 0xB4))  # 20 bytes, easy to spot in hex


class DroppingRig(SimRig):
    """A rig that swallows the first answer to each command named in ``drop``."""

    def __init__(self, *args: object, drop: set[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.drop = set(drop)
        self.seen: list[str] = []

    def handle_line(self, raw: bytes) -> bytes | None:
        answer = super().handle_line(raw)
        words = raw.split()
        command = words[1].decode() if words and words[0].startswith(b"@") else ""
        self.seen.append(command)
        if command in self.drop:
            self.drop.discard(command)
            return None
        return answer


def _rig(**kwargs: object) -> SimRig:
    firmware = make_sim_firmware("C302", clock=SYSTEM_CLOCK)
    return SimRig([firmware, None], clock=SYSTEM_CLOCK, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def served() -> Iterator[PtyRigServer]:
    with PtyRigServer(_rig(apdu_factory=card_for)) as server:
        yield server


def _token(client: RigClient, server: PtyRigServer | TcpRigServer) -> RigToken:
    fw = server.rig.slots[0]
    assert fw is not None
    return RigToken(
        client, 1, identity=TokenIdentity(fw.identity.serial, "C302", "1.0"), spec=fw.spec
    )


def _run_in_thread(target: object) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, errors


def test_unplugging_the_pty_mid_command_is_an_infrastructure_error_naming_rig_and_slot(
    served: PtyRigServer,
) -> None:
    client = RigClient(served.path, name="bench-7").open()
    started = threading.Event()
    served.rig.clock = SYSTEM_CLOCK

    def watch() -> None:
        started.set()
        client.call("WATCH?", 1, 60_000, slot=1, timeout=62)

    thread, errors = _run_in_thread(watch)
    started.wait()
    threading.Timer(0.2, served.unplug).start()
    thread.join(timeout=30)  # a hang would run the full 60 s watch
    assert not thread.is_alive(), "client still waiting after the rig was unplugged"
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, InfrastructureError)
    assert "rig bench-7 slot 1" in str(error)
    assert "WATCH?" in str(error)
    # Every later request fails fast with the same diagnosis instead of touching a dead fd.
    with pytest.raises(InfrastructureError, match=r"rig bench-7 slot 1: PRESS not sent: link lost"):
        client.call("PRESS", 1, slot=1)
    client.close()


def test_dropping_the_tcp_connection_mid_command_is_an_infrastructure_error() -> None:
    with TcpRigServer(_rig()) as server:
        client = RigClient(server.url, name="tcp-rig").open()
        thread, errors = _run_in_thread(
            lambda: client.call("WATCH?", 1, 60_000, slot=1, timeout=62)
        )
        threading.Timer(0.2, server.unplug).start()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert len(errors) == 1
        assert isinstance(errors[0], InfrastructureError)
        assert "rig tcp-rig slot 1" in str(errors[0])
        client.close()


def test_noise_from_the_rig_is_logged_and_skipped(served: PtyRigServer) -> None:
    client = RigClient(served.path, name="noisy").open()
    assert client.slot_count() == 2
    # Noise arrives between requests and the client flushes it; to hit the read path, the
    # noise must arrive *after* the request: a rig that chatters before each answer.
    original = served.rig.handle_line

    def chatty(raw: bytes) -> bytes | None:
        answer = original(raw)
        noise = b"\xff\xfe\x00boot banner v0\r\nOK 99\n@zz OK stale\n" + b"x" * 20
        return None if answer is None else noise + answer  # the last noise glued on

    served.rig.handle_line = chatty  # type: ignore[method-assign]
    info = client.slot_info(1)
    assert info.present
    assert info.model == "C302"
    log = "\n".join(client.log.recent(20))
    assert "garbage" in log
    assert "dropped answer for @zz" in log
    assert "xxxxxxxxxxxxxxxxxxxx@2 OK PRESENT" in log  # logged as garbage, answer salvaged


def test_noise_towards_the_rig_does_not_break_the_next_request(served: PtyRigServer) -> None:
    client = RigClient(served.path, name="noisy-host").open()
    # Noise without a terminator: the rig cannot answer it (it has not seen a line end).
    assert client.raw(b"\x01\x02 \xff half a line without end", timeout=0.2) is None
    assert client.protocol_version() == "1.0"  # the leading newline ended the noise
    answer = client.raw(b"\xfe\xfd\n")
    assert answer is not None
    assert answer.startswith(b"ERR 100")
    assert client.slot_count() == 2


def test_a_lost_answer_to_a_query_is_retried() -> None:
    rig = DroppingRig(
        [make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK, drop={"SLOT?"}
    )
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="lossy", timeout=0.5, retries=2).open()
        assert client.slot_info(1).present
        assert rig.seen.count("SLOT?") >= 2  # 3 if the machine is slow; never 1


def test_a_lost_answer_to_a_press_is_not_retried() -> None:
    rig = DroppingRig(
        [make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK, drop={"PRESS"}
    )
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="lossy", timeout=0.3, retries=2).open()
        with pytest.raises(InfrastructureError, match=r"rig lossy slot 1: PRESS got no answer"):
            client.press(1)
        assert rig.seen.count("PRESS") == 1


def test_rig_errors_carry_the_code_and_name_the_slot(served: PtyRigServer) -> None:
    client = RigClient(served.path, name="errs").open()
    with pytest.raises(RigCommandError, match=r"rig errs slot 9: PRESS refused: ERR 200") as info:
        client.press(9)
    assert info.value.code == 200
    with pytest.raises(RigCommandError, match=r"ERR 201"):
        client.call("DISP?", 2, slot=2)
    with pytest.raises(RigUnsupported, match=r"ERR 301"):
        client.call("CONF", 1, 0, 0, "SHA512", 30, 6, 30, slot=1)


def test_apdu_without_a_card_factory_is_rig_unsupported() -> None:
    with PtyRigServer(_rig()) as server:
        client = RigClient(server.path, name="no-nfc").open()
        with pytest.raises(RigUnsupported, match=r"ERR 400"):
            client.apdu(1, bytes.fromhex("00A4040000"))


def test_apdu_pass_through_reaches_the_card(served: PtyRigServer) -> None:
    client = RigClient(served.path, name="nfc").open()
    answer = client.apdu(1, bytes.fromhex("00A4040000"))
    assert len(answer) >= 2  # at least SW1 SW2 from the simulated card


def test_seed_material_never_reaches_the_wire_log(served: PtyRigServer, tmp_path: Path) -> None:
    log_path = tmp_path / "rig.wire.log"
    client = RigClient(served.path, name="secret-rig", wire_log=WireLog("secret-rig", log_path))
    client.open()
    token = _token(client, served)
    token.burn(BurnRequest(secret=Secret(SEED, kind="seed"), clock_time=31))
    client.apdu(1, bytes.fromhex("80D4000014") + SEED)  # an APDU body carrying the seed
    client.close()
    client.log.close()
    text = log_path.read_text()
    assert "SEED 1 0 <redacted 20 bytes fp:" in text
    for form in (SEED.hex(), SEED.hex().upper(), base64.b32encode(SEED).decode()):
        assert form not in text
    assert "80D40000+<redacted" in text
    assert os.stat(log_path).st_size > 0
    assert all(line[:4].isdigit() for line in text.splitlines())  # every line timestamped


def test_a_rig_echoing_its_input_does_not_leak_the_seed_into_the_log(tmp_path: Path) -> None:
    rig = _rig()
    original = rig.handle_line

    def echoing(raw: bytes) -> bytes | None:
        answer = original(raw)
        return None if answer is None else b"echo: " + raw + b"\r\n" + answer

    rig.handle_line = echoing  # type: ignore[method-assign]
    log_path = tmp_path / "echo.wire.log"
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="echo", wire_log=WireLog("echo", log_path)).open()
        client.call("SEED", 1, 0, SEED.hex(), slot=1)
        client.close()
    text = log_path.read_text()
    assert "<40 hex digits>" in text  # the echo was logged as garbage, without the seed
    assert SEED.hex() not in text
    assert SEED.hex().upper() not in text


class ScriptedRig(SimRig):
    """A rig that answers some commands from a script: ``{command: [answer body, ...]}``.

    Each body (``ERR 401 rig busy``) is used once, with the request's tag; then the rig
    answers normally. ``trailer`` is sent after every answer, as a rig printing debug text
    or a late answer would.
    """

    def __init__(
        self, *args: object, script: dict[str, list[str]], trailer: bytes = b"", **kw: object
    ) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.script = {k: list(v) for k, v in script.items()}
        self.trailer = trailer
        self.seen: list[str] = []

    def handle_line(self, raw: bytes) -> bytes | None:
        words = raw.split()
        if not words or not words[0].startswith(b"@"):
            return super().handle_line(raw)
        tag, command = words[0].decode(), words[1].decode().upper()
        self.seen.append(command)
        queued = self.script.get(command)
        if queued:
            return f"{tag} {queued.pop(0)}\n".encode() + self.trailer
        answer = super().handle_line(raw)
        return None if answer is None else answer + self.trailer


def _scripted(**kwargs: object) -> ScriptedRig:
    return ScriptedRig(
        [make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK, **kwargs
    )


def test_a_busy_rig_is_retried_even_for_a_press() -> None:
    rig = _scripted(script={"PRESS": ["ERR 401 rig busy: solenoid moving"] * 2})
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="busy", retries=2).open()
        client.press(1)  # two ERR 401, then OK: the rig never acted on the refused ones
        assert rig.seen.count("PRESS") == 3
        assert any("rig busy; retry 2/2" in line for line in client.log.recent(10))


def test_a_rig_busy_for_longer_than_the_retries_is_an_infrastructure_error() -> None:
    rig = _scripted(script={"DISP?": ["ERR 401 rig busy"] * 5})
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="stuck", retries=2).open()
        with pytest.raises(InfrastructureError, match=r"rig stuck slot 1: DISP\? .*still busy"):
            client.call("DISP?", 1, slot=1)
        assert rig.seen.count("DISP?") == 3


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("ERR 450 not supported by this rig: no new thing", RigUnsupported),
        ("ERR 399 token refused: something new", RigCommandError),
        ("ERR 301 not supported by this token", RigUnsupported),
        ("ERR 250 slot jammed", RigCommandError),
    ],
)
def test_an_unknown_error_code_is_read_as_the_first_code_of_its_hundred(
    answer: str, kind: type[Exception]
) -> None:
    rig = _scripted(script={"TCLK?": [answer]})
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="new-fw").open()
        with pytest.raises(kind) as info:
            client.call("TCLK?", 1, slot=1)
        assert info.value.code == int(answer.split()[1])  # type: ignore[attr-defined]
        if kind is RigCommandError:
            assert not isinstance(info.value, RigUnsupported)


def test_a_seed_quoted_by_the_rig_in_an_error_never_reaches_log_or_exception(
    tmp_path: Path,
) -> None:
    canary = SEED.hex().upper()
    rig = _scripted(
        script={
            "SEED": [f"ERR 300 token refused seed {canary}"],
            "SEED?": [f"OK 1 {canary.lower()}"],
        }
    )
    log_path = tmp_path / "quoting.wire.log"
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="quoting", wire_log=WireLog("quoting", log_path))
        client.open()
        with pytest.raises(RigCommandError) as info:
            client.call("SEED", 1, 0, SEED.hex(), slot=1)
        values = client.call("SEED?", 1, 0, slot=1)
        client.close()
    client.log.close()
    text = log_path.read_text()
    assert values[0] == "1"
    assert "ERR 300 token refused seed <40 hex digits>" in text
    assert "OK 1 <40 hex digits>" in text
    for where in (text, str(info.value)):
        assert canary not in where.upper()
    assert "<40 hex digits>" in str(info.value)


def test_late_lines_discarded_before_a_request_are_logged_redacted(tmp_path: Path) -> None:
    trailer = f"@zz OK late-answer {SEED.hex()}\n".encode()
    rig = _scripted(script={}, trailer=trailer)
    log_path = tmp_path / "late.wire.log"
    with PtyRigServer(rig) as server:
        client = RigClient(server.path, name="late", wire_log=WireLog("late", log_path)).open()
        client.call("SLOTS?")
        client.call("PROTO?")  # the trailer after SLOTS?'s answer is dropped before this one
        client.close()
    client.log.close()
    text = log_path.read_text()
    discarded = [line for line in text.splitlines() if " ! discarded " in line]
    assert discarded, text
    assert "late-answer <40 hex digits>" in discarded[0]
    assert SEED.hex() not in text


@pytest.mark.parametrize(("model_name", "erased"), [("C301", True), ("C302", False)])
def test_a_failed_seed_after_an_erasing_config_says_the_seed_is_gone(
    model_name: str, erased: bool
) -> None:
    firmware = make_sim_firmware(model_name, clock=SYSTEM_CLOCK)
    with PtyRigServer(SimRig([firmware], clock=SYSTEM_CLOCK)) as server:
        client = RigClient(server.path, name="half").open()
        token = RigToken(
            client, 1, identity=TokenIdentity("x", model_name, "1.0"), spec=firmware.spec
        )
        token.burn(BurnRequest(secret=Secret(SEED, kind="seed"), clock_time=31))
        too_long = BurnRequest(secret=Secret(bytes(64), kind="seed"), clock_time=31)
        with pytest.raises(RigCommandError) as info:
            token.burn(too_long, check=False)  # the token itself refuses a 64-byte seed
        client.close()
    assert info.value.code == 300
    assert ("seed erased by it: burn again" in str(info.value)) is erased
    assert firmware.has_seed(0) is not erased  # what the message says is what happened
