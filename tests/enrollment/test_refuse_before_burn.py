"""A QR code whose key the token's model cannot honour is refused before anything is burned.

The token is a restricted-sync C301 on a real pty rig, already holding a key: any config
write would erase that key, so "its old code still shows" proves nothing was written.
"""

from __future__ import annotations

import io

import pytest
import segno

from tokenrig.fixtures.enrollment import EnrollTokenFactory
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.enroll import procedure as p
from tokenrig.harness.enroll.steps import StepFailed, StepRunner
from tokenrig.harness.enroll.token_part import read_code
from tokenrig.harness.otp.base32 import decode_base32
from tokenrig.harness.otp.hotp import totp

GOOD_KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
GOOD = f"otpauth://totp/JumpCloud%20User:qa@example.test?secret={GOOD_KEY}&issuer=JumpCloud%20User"


def _qr(uri: str) -> bytes:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=6, border=4)
    return out.getvalue()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("&digits=8", "digits"),
        ("&algorithm=SHA512", "algorithm"),
        ("&period=90", "period"),
    ],
    ids=["digits-8", "sha512", "period-90"],
)
def test_unsupported_qr_is_refused_before_burning(
    extra: str,
    field: str,
    pty_token_factory: EnrollTokenFactory,
    enroll_clock: VirtualClock,
    steps: StepRunner,
) -> None:
    token = pty_token_factory("C301")
    assert token.spec.restricted_sync
    assert token.spec.profiles == 1
    p.token_part(steps, _qr(GOOD), token, enroll_clock)
    before = read_code(token)

    with pytest.raises(StepFailed) as failure:
        p.token_part(steps, _qr(GOOD + extra), token, enroll_clock)
    assert failure.value.step == "check URI against token model C301"
    assert f"{field}:" in failure.value.reason
    assert "nothing was written" in failure.value.reason
    burn_steps = [r.name for r in steps.records if r.name.startswith("burn seed")]
    assert len(burn_steps) == 1, "the refused QR code reached the burn step"

    # The old key is still on the token and still gives RFC 6238 codes.
    after = read_code(token)
    expected = totp(decode_base32(GOOD_KEY).key, after.reading.host_time)
    assert after.code == expected == before.code
