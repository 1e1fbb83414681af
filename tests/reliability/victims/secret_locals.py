"""Tests that fail on purpose with canary seed material in their locals and in harness frames.

Not collected by the suite (no ``test_`` file prefix); ``test_secret_canaries.py`` runs this
file as its own pytest process with ``-l``, ``--showlocals``, ``--tb=long`` and
``--full-trace``, and searches what it printed and wrote (pytest's output, JUnit, allure) for
the seed in every spelling. Every test here fails, each a different way a traceback shows a
secret: a local of each secret-holding type and raw ``bytes``, assertion rewriting's view of
compared values, an exception raised deep inside harness code (whose frames ``--full-trace``
shows with their locals), captured output, and a rig ERR text quoting an APDU with separators.
"""

from __future__ import annotations

import base64
import logging
import os

import pytest

from tokenrig.harness.jumpcloud.emulator.models import MailKind, MailMessage
from tokenrig.harness.jumpcloud.emulator.server import Request, Response
from tokenrig.harness.otp.base32 import decode_base32
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.qualify.diagnose import Burned
from tokenrig.harness.sim.apdu_card import _split
from tokenrig.harness.tokens.rig_answers import expect_count
from tokenrig.harness.transports import rig_protocol
from tokenrig.harness.transports.token2 import apdu, tlv
from tokenrig.harness.transports.wire_log import scrub_hex

SEED = bytes.fromhex(os.environ.get("CANARY_SEED_HEX", "")) or b"tokenrig-canary\x00\x00\x00\x07"
LOG = logging.getLogger("victim")


def test_locals_of_every_secret_holding_type() -> None:
    raw = SEED
    b32 = base64.b32encode(SEED).decode()
    burned = Burned(key=SEED, algorithm=Algorithm.SHA1, period=30)
    response = apdu.Response(data=SEED, sw=0x9000)
    item = tlv.Tlv(0x70, SEED)
    card_apdu = _split(bytes((0x84, 0xC5, 0x01, 0x00, len(SEED))) + SEED)
    request = Request("POST", "/api", {}, {"x-api-key": b32}, SEED)
    answer = Response(200, b32.encode())
    mail = MailMessage("a@example.test", "code", b32, MailKind.WELCOME, (f"/r?t={b32}",))
    assert (raw, burned, response, item, card_apdu, request, answer, mail) == ()


def test_assertion_rewriting_compares_the_seed() -> None:
    key = SEED
    assert key == SEED[::-1]


def test_assertion_rewriting_compares_two_dataclasses_field_by_field() -> None:
    """pytest drills into differing fields of dataclasses, bypassing their repr."""
    assert Burned(SEED, Algorithm.SHA1, 30) == Burned(SEED[::-1], Algorithm.SHA1, 30)


def test_an_exception_deep_in_harness_code() -> None:
    secret = base64.b32encode(SEED).decode().rstrip("=") + "1"  # 1 is not base32
    decode_base32(secret)


def test_a_rig_echoing_an_apdu_with_separators_in_its_err_text() -> None:
    echoed = (bytes((0x84, 0xC5, 0x01, 0x00, len(SEED))) + SEED).hex(":").upper()
    rig_answer = rig_protocol.Response(ok=False, code=300, text=f"card refused {echoed}")
    spaced = SEED.hex(" ")
    print(f"rig said ERR 300 card refused {echoed}")  # captured stdout
    LOG.warning("rig said ERR 300 card refused %s", SEED.hex("-"))  # captured log
    expect_count("rig sim slot 1", "APDU", [echoed, spaced, scrub_hex(echoed)], 1)
    pytest.fail(f"unreachable: {rig_answer}")
