"""The portal's pure parts: otpauth URI shape, QR round trip, seed sizes, code checks against
pyotp, mail wording, page escaping, and the grace-period arithmetic."""

from __future__ import annotations

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from portal_support import START, decode_qr

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud.emulator import mail
from tokenrig.harness.jumpcloud.emulator.models import DAY, EmulatorState, MailKind, SystemUser
from tokenrig.harness.jumpcloud.emulator.portal_flows import Gate, mfa_gate
from tokenrig.harness.jumpcloud.emulator.portal_pages import fragment, page
from tokenrig.harness.jumpcloud.emulator.portal_totp import (
    base32_key,
    check_code,
    new_totp_secret,
    otpauth_uri,
    qr_png,
)
from tokenrig.harness.otp.verifier import Outcome, TokenState
from tokenrig.harness.otp.window import WindowPolicy
from tokenrig.harness.secrets import Secret


def test_uri_shape_and_qr_round_trip() -> None:
    secret = Secret(bytes(range(20)))
    uri = otpauth_uri("jo+qa@example.test", secret)
    assert uri == (
        "otpauth://totp/jo%2Bqa@example.test?secret=AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT"
        "&issuer=JumpCloud%20User"
    )
    assert decode_qr(qr_png(uri)) == uri
    parsed = pyotp.parse_uri(uri)
    assert parsed.issuer == "JumpCloud User"
    assert parsed.name == "jo+qa@example.test"


@pytest.mark.parametrize(("nbytes", "chars"), [(10, 16), (20, 32), (32, 52)])
def test_seed_sizes(nbytes: int, chars: int) -> None:
    secret = new_totp_secret(nbytes)
    assert len(secret) == nbytes
    assert len(base32_key(secret)) == chars
    assert new_totp_secret(nbytes) != secret
    assert base32_key(secret) not in repr(secret)


@pytest.mark.parametrize("nbytes", [0, 9, 65])
def test_seed_size_out_of_range(nbytes: int) -> None:
    with pytest.raises(ValueError, match=r"10\.\.64 bytes"):
        new_totp_secret(nbytes)


@given(key=st.binary(min_size=14, max_size=32), t=st.integers(120, 2**33), drift=st.integers(-3, 3))
def test_code_check_agrees_with_pyotp(key: bytes, t: int, drift: int) -> None:
    # pyotp refuses keys under 112 bits, hence 14+ bytes here (80-bit keys: test_portal_policy.py).
    secret = Secret(key)
    code = pyotp.TOTP(base32_key(secret)).at(t + 30 * drift)
    verdict = check_code(secret, code, t, policy=WindowPolicy.symmetric(1))
    if abs(drift) <= 1:
        assert verdict.accepted
        assert verdict.counter is not None
    elif verdict.accepted:  # a 6-digit code may repeat inside the window by chance
        assert verdict.counter is not None
        assert pyotp.TOTP(base32_key(secret)).at(verdict.counter * 30) == code


def test_code_check_rejects_replay_and_bad_shapes() -> None:
    secret = Secret(b"12345678901234567890")
    code = pyotp.TOTP(base32_key(secret)).at(START)
    memory = TokenState()
    assert check_code(secret, code, START, memory=memory).accepted
    assert check_code(secret, code, START, memory=memory).outcome is Outcome.REPLAYED
    for bad in ("", "12345", "1234567", "12a456", "１２３４５６"):
        assert check_code(secret, bad, START).outcome is Outcome.MALFORMED


def _user(org_id: str, **fields: object) -> SystemUser:
    user = SystemUser(
        id="0" * 24, org_id=org_id, username="u1", email="u1@example.test", created=START
    )
    for name, value in fields.items():
        setattr(user, name, value)
    return user


def test_mails_have_links_and_no_secrets() -> None:
    state = EmulatorState(VirtualClock(START))
    org = state.add_org("k")
    user = _user(firstname="Ann", org_id=org.id)
    state.add_user(user)
    state.set_password(user, "Secret-passw0rd")
    user.totp_secret = Secret(b"k" * 20)
    for kind in MailKind:
        message = mail.compose(state, kind, user, "ann@example.test", "http://127.0.0.1:1/x")
        assert message.to == "ann@example.test"
        assert message.links == ("http://127.0.0.1:1/x",)
        assert "http://127.0.0.1:1/x" in message.body
        assert message.body.startswith("Hello Ann,")
        assert "Secret-passw0rd" not in message.body
        assert base32_key(user.totp_secret) not in message.body
    assert mail.compose(state, MailKind.MFA_ENABLED, user, "a@b.c", None).links == ()


def test_pages_escape_values() -> None:
    html = page(
        "message.html",
        title="<T>",
        heading='"h"',
        text="<b>x</b>",
        link="/l",
        link_text="&",
        css_class="error",
    )
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<title>&lt;T&gt; |" in html
    assert str(fragment("days_left.html", days="2 days")).count("2 days") == 1


def test_grace_arithmetic() -> None:
    clock = VirtualClock(START)
    state = EmulatorState(clock)
    org = state.add_org("k")
    user = _user(org_id=org.id, enable_user_portal_multifactor=True)
    state.add_user(user)
    state.start_enrollment_period(user, days=2)
    assert mfa_gate(state, user).gate is Gate.GRACE
    assert mfa_gate(state, user).days_remaining == 2
    clock.advance(DAY + 1)
    assert mfa_gate(state, user).days_remaining == 1
    clock.advance(DAY - 2)
    assert mfa_gate(state, user).days_remaining == 1
    clock.advance(1)
    assert mfa_gate(state, user).gate is Gate.EXPIRED
    org.totp_enabled = False
    assert mfa_gate(state, user).gate is Gate.OPEN
