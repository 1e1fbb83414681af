"""Secret wrappers: the value never leaks through repr/str/format/pickle/exceptions."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.secrets import Secret, SecretText, fingerprint


@given(st.binary(min_size=8, max_size=64))  # 16+ hex chars: cannot hide in a fingerprint
def test_secret_never_prints_its_bytes(value: bytes) -> None:
    secret = Secret(value, "seed")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert value.hex() not in text
        assert "seed" in text
        assert secret.fingerprint in text
    assert secret.reveal() == value
    assert len(secret) == len(value)


def test_secret_in_an_exception_message_stays_hidden() -> None:
    secret = Secret(b"canary-seed-bytes!!", "seed")
    with pytest.raises(RuntimeError) as info:
        raise RuntimeError(f"burn failed for {secret}")
    assert "canary" not in str(info.value)


@pytest.mark.parametrize(
    "secret", [Secret(b"0123456789", "seed"), SecretText("hunter2", "password")]
)
def test_secrets_refuse_pickling(secret: object) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_secret_text_repr_is_redacted_and_compares_by_value() -> None:
    key = SecretText("jca_canary_api_key", "api key")
    assert "canary" not in repr(key)
    assert "canary" not in f"{key}"
    assert key == SecretText("jca_canary_api_key")
    assert key != SecretText("other")
    assert not SecretText("")


def test_fingerprint_is_stable_short_and_distinguishes_seeds() -> None:
    assert fingerprint(b"abc") == fingerprint(b"abc")
    assert fingerprint(b"abc") != fingerprint(b"abd")
    assert fingerprint(b"abc").startswith("fp:")
    assert len(fingerprint(b"abc")) == 15


def test_secret_rejects_text() -> None:
    with pytest.raises(TypeError, match="seed must be bytes"):
        Secret("not bytes", "seed")  # type: ignore[arg-type]
