"""PC/SC under trouble: pcscd restarted under an open channel.

Real pcscd, real vpcd driver, real pyscard; only the card is simulated. A card removed in the
middle of an APDU is covered by ``tests/nfc/test_pcsc_integration.py``; this adds the daemon
itself going away and coming back, which is what a package upgrade or a crashed pcscd does to
a bench in the middle of a batch.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest

from tokenrig.harness.clock import SystemClock
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.pcscd import Pcscd
from tokenrig.harness.sim.vicc import VirtualCard
from tokenrig.harness.tokens.base import InfrastructureError
from tokenrig.harness.transports.pcsc import PcscChannel, wait_for_card
from tokenrig.harness.transports.token2 import SingleProfileProgrammer

pytestmark = [pytest.mark.xdist_group("pcscd")]


def _insert(pcscd: Pcscd, serial_index: int) -> VirtualCard:
    firmware = make_sim_firmware("C302", clock=SystemClock(), index=serial_index)
    card = VirtualCard(card_for(firmware), pcscd.ports[0]).insert()
    wait_for_card(pcscd.readers[0], present=True)
    return card


def test_pcscd_restarted_is_an_infrastructure_error_and_a_new_channel_works(
    pcscd: Pcscd, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    reader = pcscd.readers[0]
    card = _insert(pcscd, 11)
    channel = PcscChannel(reader, transmit_timeout=5.0)
    caught = None
    try:
        before = SingleProfileProgrammer(channel).read_info()
        assert before.serial.endswith("11")
        pcscd.stop()
        card.remove()
        with pytest.raises(InfrastructureError) as caught:
            SingleProfileProgrammer(channel).read_info()
        assert reader in str(caught.value)
    finally:
        channel.close()
        if pcscd.pid is None:
            pcscd.start()  # the session's other NFC tests need it back
    channel._worker._thread.join(5.0)
    del channel, caught  # the error's traceback holds the connection too
    gc.collect()
    # Closing a channel of a vanished pcscd left a context that raised when collected.
    assert [str(u.exc_value) for u in unraisable] == []
    card = _insert(pcscd, 12)
    try:
        with PcscChannel(reader, transmit_timeout=5.0) as fresh:
            after = SingleProfileProgrammer(fresh).read_info()
        assert after.serial.endswith("12")
    finally:
        card.remove()
        wait_for_card(reader, present=False)
