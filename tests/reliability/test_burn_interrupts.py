"""A stop request never lands between a burn's config write and its seed write.

On a restricted-sync model (C301) the config write erases the seed, so a run stopped between
the two writes leaves a token holding no seed. Every burn path (a token in a rig slot over the
rig protocol, a simulated token in-process, a token programmed over APDUs) holds SIGINT,
SIGTERM and SIGHUP (``interrupts.deferred``) from the config write until the seed write has
ended, then stops. Here a real signal is sent to this process right after the simulated
firmware has taken the config write: the seed write still happens, then the burn raises
``Interrupted`` naming the signal.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tokenrig.harness import interrupts
from tokenrig.harness.clock import SYSTEM_CLOCK, VirtualClock
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.apdu_card import SingleProfileCard
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer
from tokenrig.harness.tokens.base import BurnRequest, Token, TokenIdentity
from tokenrig.harness.tokens.nfc_token import NfcToken, SeedStatus
from tokenrig.harness.tokens.rig_token import RigToken
from tokenrig.harness.tokens.sim_token import SimToken
from tokenrig.harness.transports.apdu_channel import DirectApduChannel
from tokenrig.harness.transports.rig_client import RigClient
from tokenrig.harness.transports.token2 import SingleProfileProgrammer

MODEL = "C301"  # restricted sync: its config write erases the seed
SEED = Secret(bytes.fromhex("00112233445566778899aabbccddeeff00112233"))
START = 1_767_225_600


class SignalAfterConfig:
    """Spies on a simulated firmware: after its config write lands, signal this process;
    note each write, and whether the signal was delivered (handled) before the seed write."""

    def __init__(self, firmware: SimFirmware, signum: signal.Signals) -> None:
        self.events: list[str] = []
        self._signum = signum
        real_config, real_seed = firmware.write_config, firmware.write_seed

        def write_config(*args: Any, **kwargs: Any) -> Any:
            result = real_config(*args, **kwargs)
            self.events.append("config")
            os.kill(os.getpid(), signum)
            if threading.current_thread() is threading.main_thread():
                _until(lambda: interrupts.received() is not None)  # the handler has run
            self.events.append("signal")
            return result

        def write_seed(*args: Any, **kwargs: Any) -> None:
            if interrupts.received() == self._signum:
                self.events.append("(signal received)")
            real_seed(*args, **kwargs)
            self.events.append("seed")

        firmware.write_config = write_config  # type: ignore[method-assign]
        firmware.write_seed = write_seed  # type: ignore[method-assign]


def _until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the signal was never delivered"
        time.sleep(0.001)


@pytest.fixture
def handlers() -> Iterator[None]:
    with interrupts.installed():
        yield


def _burn_is_held(token: Token, spy: SignalAfterConfig, signum: signal.Signals) -> None:
    with pytest.raises(interrupts.Interrupted) as stopped:
        token.burn(BurnRequest(SEED, clock_time=START))
    assert stopped.value.signum == signum
    assert spy.events == ["config", "signal", "(signal received)", "seed"]
    assert interrupts.received() == signum


@pytest.mark.usefixtures("handlers")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_simulated_burn_finishes_its_seed_write_then_stops(signum: signal.Signals) -> None:
    firmware = make_sim_firmware(MODEL, clock=VirtualClock(START))
    spy = SignalAfterConfig(firmware, signum)
    _burn_is_held(SimToken(firmware), spy, signum)


@pytest.mark.usefixtures("handlers")
def test_an_nfc_burn_finishes_its_seed_write_then_stops() -> None:
    clock = VirtualClock(START)
    firmware = make_sim_firmware(MODEL, clock=clock)
    spy = SignalAfterConfig(firmware, signal.SIGTERM)
    channel = DirectApduChannel(SingleProfileCard(firmware), "test reader")
    token = NfcToken(SingleProfileProgrammer(channel), display=SimToken(firmware), clock=clock)
    _burn_is_held(token, spy, signal.SIGTERM)
    assert token.seed_status() is SeedStatus.BURNED


@pytest.mark.usefixtures("handlers")
def test_a_rig_burn_finishes_its_seed_write_then_stops() -> None:
    """The signal is sent from the rig's side (its server thread) while the host waits for
    the CONF answer; the host still sends SEED, and stops once it is answered."""
    firmware = make_sim_firmware(MODEL, clock=SYSTEM_CLOCK)
    spy = SignalAfterConfig(firmware, signal.SIGINT)
    rig = SimRig([firmware], clock=SYSTEM_CLOCK)
    with PtyRigServer(rig) as server, RigClient(server.path, name="r", timeout=2.0) as client:
        identity = TokenIdentity(firmware.identity.serial, MODEL, "1.0")
        token = RigToken(client, 1, identity=identity, spec=firmware.spec)
        with pytest.raises(interrupts.Interrupted) as stopped:
            token.burn(BurnRequest(SEED, clock_time=START))
    assert stopped.value.signum == signal.SIGINT
    assert spy.events[0] == "config"
    assert spy.events[-1] == "seed"
    assert interrupts.received() == signal.SIGINT


def test_without_the_deferral_the_same_signal_stops_between_the_writes() -> None:
    """The control: the signal is really delivered there, and outside ``deferred`` it stops
    the code at once (so the tests above prove the deferral, not a late signal)."""
    firmware = make_sim_firmware(MODEL, clock=VirtualClock(START))
    spy = SignalAfterConfig(firmware, signal.SIGTERM)

    def config_then_seed() -> None:
        firmware.write_config(
            utc=START, algorithm=BurnRequest(SEED).algorithm, period=30, display_timeout=30
        )
        firmware.write_seed(SEED.reveal())

    with interrupts.installed(), pytest.raises(interrupts.Interrupted):
        config_then_seed()
    assert spy.events == ["config"]


def _signal_self(signum: signal.Signals) -> None:
    """Send ``signum`` to this process and give its handler the time to run."""
    os.kill(os.getpid(), signum)
    for _ in range(200):  # the handler runs at the next bytecode boundary
        time.sleep(0.001)


def test_a_process_installed_once_ignores_the_signals_after_the_first() -> None:
    """An xdist worker gets its process group's signal and its controller's forwarded copy:
    the second must not cut short the orderly stop the first started."""
    with interrupts.installed_once():
        with pytest.raises(interrupts.Interrupted):
            _signal_self(signal.SIGTERM)
        _signal_self(signal.SIGINT)  # ignored: no exception
        assert interrupts.received() == signal.SIGTERM
    with interrupts.installed():  # the control: without once, the second one stops too
        with pytest.raises(interrupts.Interrupted):
            _signal_self(signal.SIGTERM)
        with pytest.raises(interrupts.Interrupted):
            _signal_self(signal.SIGINT)


def test_at_the_very_end_a_held_signal_is_reported_not_raised() -> None:
    """The last outputs and rig closing run under ``deferred(then_stop=False)``: every such
    block (each a hook that must run) ends, and the exit status still learns the signal."""
    ended = []
    with interrupts.installed():
        with interrupts.deferred(then_stop=False):
            _signal_self(signal.SIGTERM)
            ended.append("outputs")
        ended.append("after")
        assert interrupts.received() == signal.SIGTERM
    assert ended == ["outputs", "after"]
