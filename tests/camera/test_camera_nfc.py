"""A camera rig's NFC reader on real parts: pcscd (started by the session fixture, private
vpcd reader), a virtual card, pyscard, the Token2 protocol and NfcToken, wired so that the
card on the reader and the token the simulated camera films are the SAME simulated firmware.
A burn through the rig's reader must then change what the camera reads; a wrong token on a
shared reader, or a reader that is not there, must stop the burn as the rig's fault.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenrig.fixtures.nfc import CardSlots
from tokenrig.harness.camera.camera_token import CameraToken
from tokenrig.harness.camera.nfc import CameraNfc
from tokenrig.harness.camera.rig_kind import CameraRig, open_camera_rig
from tokenrig.harness.clock import SystemClock
from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.qualify import procedures
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import INCONCLUSIVE, run_procedure, token_verdict
from tokenrig.harness.rigs.config import RigFileError, load_rig_file
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.pcscd import Pcscd
from tokenrig.harness.tokens.base import BurnRequest, InfrastructureError, SeedState

OLD_SEED = b"the seed already on!"
NEW_SEED = bytes.fromhex("3132333435363738393031323334353637383930")


def _rig_file(tmp_path: Path, camera: str, slots: str = "") -> Path:
    text = (
        'name = "camnfc"\nkind = "camera"\napdu = false\n\n[camera]\nsource = "sim"\n'
        f"latency_ms = 80\npower = 5\n{camera}\n"
        '[[slots]]\nslot = 1\nmodel = "C301"\n\n[[slots]]\nslot = 2\nmodel = "C302"\n'
        f"{slots}"
    )
    path = tmp_path / "camera.toml"
    path.write_text(text)
    return path


def _open(path: Path) -> CameraRig:
    return open_camera_rig(load_rig_file(path), SystemClock())


def _firmware(rig: CameraRig, slot: int) -> SimFirmware:
    assert rig.bench is not None
    return rig.bench.firmware[slot]


def _preburn(firmware: SimFirmware, clock_now: float) -> None:
    firmware.write_config(
        utc=int(clock_now), algorithm=Algorithm.SHA1, period=30, display_timeout=30
    )
    firmware.write_seed(OLD_SEED)


def _camera_code(rig: CameraRig, slot: int) -> tuple[str, float]:
    token = rig.token(slot)
    token.press()
    reading = token.read_display()
    assert reading.code is not None, f"the camera read no code on slot {slot}"
    return reading.code, reading.host_time


def _codes(seed: bytes, t: float, algorithm: Algorithm = Algorithm.SHA1) -> set[str]:
    """The codes ``seed`` gives within a second of ``t`` (the burn writes whole seconds)."""
    return {totp(seed, t + d, algorithm=algorithm) for d in (-1.0, 0.0, 1.0)}


@pytest.mark.xdist_group("pcscd")
def test_a_burn_through_the_shared_reader_changes_what_the_camera_reads(
    tmp_path: Path, card_slots: CardSlots
) -> None:
    reader = card_slots.reader(0)
    with _open(_rig_file(tmp_path, f'nfc_reader = "{reader}"')) as rig:
        one, two = _firmware(rig, 1), _firmware(rig, 2)
        _preburn(one, rig.clock.now())
        before, when = _camera_code(rig, 1)
        assert before in _codes(OLD_SEED, when)

        card_slots.insert(one)  # slot 1's token placed on the shared reader
        token = rig.token(1)
        assert isinstance(token, CameraToken)
        assert isinstance(token.programmer, CameraNfc)
        token.burn(BurnRequest(secret=Secret(NEW_SEED), algorithm=Algorithm.SHA256))
        # The clock read over NFC is the firmware's, which the burn set to the rig's clock.
        assert abs(token.read_clock() - rig.clock.now()) <= 1.0
        rig.clock.advance(31)  # the old code's display has timed out
        after, when = _camera_code(rig, 1)
        assert after in _codes(NEW_SEED, when, Algorithm.SHA256), "the camera reads the new seed"
        assert after not in _codes(OLD_SEED, when)

        # Slot 2's burn with slot 1's token still on the reader: refused, both serials named.
        with pytest.raises(InfrastructureError) as caught:
            rig.token(2).burn(BurnRequest(secret=Secret(OLD_SEED)))
        message = str(caught.value)
        assert one.identity.serial in message
        assert two.identity.serial in message
        assert "nothing written" in message
        assert reader in message
        assert not two.has_seed()
        assert one.code_at(int(rig.clock.now())) == totp(
            NEW_SEED, int(rig.clock.now()), algorithm=Algorithm.SHA256
        ), "slot 1's token kept the new seed"

        card_slots.insert(two)  # now slot 2's token on the reader: its burn goes through
        rig.token(2).burn(BurnRequest(secret=Secret(OLD_SEED)))
        code, when = _camera_code(rig, 2)
        assert code in _codes(OLD_SEED, when)


@pytest.mark.xdist_group("pcscd")
def test_each_slot_burns_and_sets_its_clock_through_its_own_reader(
    tmp_path: Path, card_slots: CardSlots
) -> None:
    slots = "".join(
        f'[[camera.slot]]\nslot = {n}\nnfc_reader = "{card_slots.reader(n - 1)}"\n' for n in (1, 2)
    )
    with _open(_rig_file(tmp_path, "", slots)) as rig:
        one, two = _firmware(rig, 1), _firmware(rig, 2)
        _preburn(one, rig.clock.now())
        card_slots.insert(one, slot=0)
        card_slots.insert(two, slot=1)
        rig.token(2).burn(BurnRequest(secret=Secret(NEW_SEED)))
        code, when = _camera_code(rig, 2)
        assert code in _codes(NEW_SEED, when)
        # A clock set over slot 2's reader moves the token's clock, and so the filmed code.
        target = int(rig.clock.now()) - 600
        assert rig.token(2).set_clock(target) is SeedState.KEPT  # C302: seed kept
        assert abs(rig.token(2).read_clock() - target) <= 1
        rig.clock.advance(31)
        code, when = _camera_code(rig, 2)
        assert code in _codes(NEW_SEED, when - 600)
        assert code not in _codes(NEW_SEED, when)
        # Slot 1's reader was not touched: its token still shows the old seed's code.
        code, when = _camera_code(rig, 1)
        assert code in _codes(OLD_SEED, when)


@pytest.mark.xdist_group("pcscd")
def test_a_missing_reader_makes_the_burn_inconclusive_naming_the_reader(
    tmp_path: Path, pcscd: Pcscd
) -> None:
    with _open(_rig_file(tmp_path, 'nfc_reader = "no such reader"')) as rig:
        token = rig.token(1)
        record = TokenRecord(serial=token.identity.serial, slot=1, model="C301")
        ctx = ProcedureContext(
            token=token,
            clock=rig.clock,
            profile=load_profile("qa"),
            record=record,
            seed=SlotSeed(Secret(NEW_SEED)),
        )
        with pytest.raises(InfrastructureError) as caught:
            run_procedure(ctx, "burn", procedures.burn)
        assert not _firmware(rig, 1).has_seed()
    assert "'no such reader'" in str(caught.value)
    assert pcscd.readers[0] in str(caught.value), "the message lists the readers there are"
    verdict = token_verdict(record)
    assert verdict.verdict == INCONCLUSIVE
    assert any("no such reader" in reason for reason in verdict.reasons)
    assert record.findings == []  # the rig's fault, never a token defect
    assert NEW_SEED.hex() not in str(caught.value).lower()


def test_rig_file_errors_name_the_key(tmp_path: Path) -> None:
    bad = _rig_file(tmp_path, "", "[[camera.slot]]\nslot = 1\nnfc_reader = 3\n")
    with pytest.raises(RigFileError) as caught:
        load_rig_file(bad)
    assert "camera.slot[1].nfc_reader" in str(caught.value)

    shared = tmp_path / "real.toml"
    shared.write_text(
        'name = "real"\nkind = "camera"\n\n[camera]\nsource = "/dev/video0"\n'
        'nfc_reader = "ACS ACR122U"\n\n[[slots]]\nslot = 1\nmodel = "C301"\nserial = "1"\n\n'
        '[[slots]]\nslot = 2\nmodel = "C301"\n'
    )
    with pytest.raises(RigFileError) as caught:
        load_rig_file(shared)
    assert "slots[2].serial" in str(caught.value)
    assert "shar" in str(caught.value)


@pytest.mark.xdist_group("pcscd")
def test_a_molto2_slot_burns_through_the_molto2_programmer(
    tmp_path: Path, card_slots: CardSlots, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKENRIG_MOLTO2_KEY", raising=False)  # the factory key
    path = tmp_path / "molto.toml"
    path.write_text(
        'name = "molto"\nkind = "camera"\napdu = false\n\n[camera]\nsource = "sim"\n'
        f'latency_ms = 80\nnfc_reader = "{card_slots.reader(0)}"\n\n'
        '[[slots]]\nslot = 1\nmodel = "Molto2"\n'
    )
    with _open(path) as rig:
        firmware = _firmware(rig, 1)
        card_slots.insert(firmware)
        rig.token(1).burn(BurnRequest(secret=Secret(NEW_SEED)))
        assert firmware.has_seed(0)
        code, when = _camera_code(rig, 1)
        assert code in _codes(NEW_SEED, when)
