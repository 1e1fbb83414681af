"""Relay pressers: the HID relay code's real pyusb path against a simulated DCT Tech board,
the missing-board errors a lab will see, and the command presser through a real process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tokenrig.harness.camera.relay import CommandPresser, HidRelayBoard, HidRelayChannel
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.sim.hid_relay import SimRelayBackend, SimRelayBoard
from tokenrig.harness.sim.usb_backend import SimUsbDevice
from tokenrig.harness.tokens.base import InfrastructureError


def test_press_closes_then_opens_the_channel_for_the_duration() -> None:
    clock = VirtualClock()
    times: list[tuple[int, bool, float]] = []
    board = SimRelayBoard("QWERT", channels=2)
    board.on_switch = lambda ch, closed: times.append((ch, closed, clock.now()))
    relay = HidRelayBoard("QWERT", backend=SimRelayBackend([board])).open()
    assert (relay.board_id, relay.channels) == ("QWERT", 2)
    assert not board.kernel_driver  # usbhid detached so the interface could be claimed
    HidRelayChannel(relay, 2, clock=clock).press(0.2)
    assert [(ch, closed) for ch, closed, _ in times] == [(2, True), (2, False)]
    assert times[1][2] - times[0][2] == pytest.approx(0.2)
    assert relay.state().closed == frozenset()


def test_power_channel_holds_and_state_is_read_back() -> None:
    board = SimRelayBoard("AB12C", channels=8)
    relay = HidRelayBoard(backend=SimRelayBackend([board])).open()
    HidRelayChannel(relay, 7).set(True)
    assert relay.state().closed == frozenset({7})
    assert board.closed == {7}
    HidRelayChannel(relay, 7).set(False)
    assert board.closed == set()
    with pytest.raises(InfrastructureError, match="channel 9 not on this 8-channel board"):
        relay.switch(9, True)


def test_a_board_that_ignores_commands_is_an_error_not_a_silent_miss() -> None:
    board = SimRelayBoard("DEAD1", channels=2)
    board.command = lambda report: None  # type: ignore[method-assign]
    relay = HidRelayBoard(backend=SimRelayBackend([board])).open()
    with pytest.raises(InfrastructureError, match="channel 1 did not switch on"):
        relay.switch(1, True)


def test_missing_board_error_names_ids_and_what_to_check() -> None:
    other = SimUsbDevice(0x16C0, 0x05DF, product="SomeOtherVUSBGadget")
    with pytest.raises(InfrastructureError) as info:
        HidRelayBoard(backend=SimRelayBackend([], others=[other])).open()
    text = str(info.value)
    assert "16c0:05df" in text
    assert "no board plugged in" in text
    assert "udev" in text
    assert "plugged in" in text
    backend = SimRelayBackend([SimRelayBoard("AAAAA"), SimRelayBoard("BBBBB")])
    with pytest.raises(InfrastructureError, match=r"board 'CCCCC' not among .*AAAAA, BBBBB"):
        HidRelayBoard("CCCCC", backend=backend).open()
    with pytest.raises(InfrastructureError, match="2 boards"):
        HidRelayBoard(backend=backend).open()


def test_command_presser_fills_placeholders_and_reports_failures(tmp_path: Path) -> None:
    out = tmp_path / "calls.txt"
    script = tmp_path / "relay.py"
    script.write_text(
        "import sys\n"
        f"open({str(out)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "sys.exit(3 if sys.argv[1] == 'off' else 0)\n"
    )
    presser = CommandPresser(
        f"{sys.executable} {script} {{action}} {{slot}} {{channel}} {{ms}}", slot=3, channel=5
    )
    presser.press(0.15)
    presser.set(True)
    assert out.read_text().splitlines() == ["press 3 5 150", "on 3 5 0"]
    with pytest.raises(InfrastructureError, match="exited 3"):
        presser.set(False)
    bad = CommandPresser("echo {nope}", slot=1)
    with pytest.raises(InfrastructureError, match=r"bad placeholder.*\{slot\}"):
        bad.press(0.1)
    with pytest.raises(InfrastructureError, match="presser command /nonexistent"):
        CommandPresser("/nonexistent/relay {action}", slot=1).press(0.1)
