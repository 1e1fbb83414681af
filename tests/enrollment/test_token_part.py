"""The token's part of enrollment against an in-process simulated token: QR → key → model
check → burn → code, and the clear errors when any of it cannot be done."""

from __future__ import annotations

import io

import pytest
import segno
from PIL import Image

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.enroll.qr import QrDecodeError, decode_qr, find_qr_texts
from tokenrig.harness.enroll.token_part import (
    EnrollmentTokenError,
    burn,
    describe_key,
    key_from_qr,
    plan_burn,
    read_code,
    wait_for_next_step,
)
from tokenrig.harness.otp.base32 import decode_base32
from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.sim.factory import make_sim_token

KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
URI = f"otpauth://totp/qa%40example.test?secret={KEY}&issuer=JumpCloud%20User"


def _png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=5, border=4)
    return out.getvalue()


def test_qr_round_trip() -> None:
    assert decode_qr(_png(URI)) == URI
    assert find_qr_texts(_png(URI)) == [URI]


def test_blank_image_has_no_qr() -> None:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(out, format="PNG")
    with pytest.raises(QrDecodeError, match="no QR code found in the 120x80 image"):
        decode_qr(out.getvalue())
    assert find_qr_texts(out.getvalue()) == []


def test_not_an_image() -> None:
    with pytest.raises(QrDecodeError, match="screenshot: not a readable image"):
        decode_qr(b"<html>")


def test_key_summary_never_shows_the_seed() -> None:
    key = key_from_qr(URI)
    summary = describe_key(key)
    assert KEY not in summary
    assert KEY.lower() not in summary
    assert "JumpCloud User:qa@example.test SHA1/6 digits/30 s, 160-bit seed fp:" in summary


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("otpauth-migration://offline?data=abc", "Google Authenticator export"),
        ("8659610000001", "serial-number barcode"),
        ("otpauth://hotp/x?secret=GEZDGNBV&counter=1", "HOTP"),
        ("otpauth://totp/x?issuer=y", "secret"),
    ],
    ids=["migration", "serial", "hotp", "no-secret"],
)
def test_wrong_qr_codes_are_named(text: str, reason: str) -> None:
    with pytest.raises(EnrollmentTokenError, match=reason):
        key_from_qr(text)


def test_burn_then_code_is_rfc6238_at_the_reading_time() -> None:
    clock = VirtualClock(1_767_225_605.0)
    token = make_sim_token("C301", clock=clock, rtc_offset=-40.0)
    key = key_from_qr(URI + "&algorithm=SHA256&period=60")
    request = plan_burn(key, token, clock_time=int(clock.now()))
    burn(token, request)
    token.power_cycle()
    code = read_code(token)
    seed = decode_base32(KEY).key
    assert code.code == totp(seed, code.reading.host_time, period=60, algorithm=Algorithm.SHA256)


def test_model_refusal_happens_before_any_write() -> None:
    clock = VirtualClock(1_767_225_605.0)
    token = make_sim_token("C301", clock=clock)
    with pytest.raises(EnrollmentTokenError) as err:
        plan_burn(key_from_qr(URI + "&digits=8"), token)
    assert "C301" in str(err.value)
    assert "digits: 8 not supported" in str(err.value)
    assert KEY not in str(err.value)
    assert not token.firmware.has_seed()  # type: ignore[attr-defined]


def test_blank_display_is_reported() -> None:
    token = make_sim_token("C302", clock=VirtualClock())
    with pytest.raises(EnrollmentTokenError, match="display stayed blank"):
        read_code(token)


def test_wait_for_next_step_lands_in_a_new_step() -> None:
    clock = VirtualClock(1_767_225_605.0)
    before = int(clock.now()) // 30
    wait_for_next_step(clock)
    assert int(clock.now()) // 30 == before + 1
