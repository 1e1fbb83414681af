"""The model capability table and the refusal of burns a model cannot honour."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import BurnRequest
from tokenrig.harness.tokens.models import MODELS, UnsupportedConfig, model, model_for_serial

# The vendor's serial-prefix table for single-profile NFC tokens, and which ones keep the seed
# on a time sync (vendor burner app and open firmware; see docs/simulator.md).
VENDOR_PREFIXES = {
    "8659600": ("miniOTP-2", False),
    "8659601": ("miniOTP-3", True),
    "8659609": ("miniOTP-3-NB", True),
    "8659612": ("OTPC-P1", False),
    "8659622": ("OTPC-P2", True),
    "8659621": ("OTPC-P2-NB", True),
    "8659610": ("C301", True),
    "8659632": ("C302", False),
}


def request(**kwargs: object) -> BurnRequest:
    secret = kwargs.pop("secret", Secret(b"\x11" * 20, kind="seed"))
    return BurnRequest(secret=secret, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", sorted(VENDOR_PREFIXES))
def test_serial_prefix_maps_to_model_and_its_sync_rule(prefix: str) -> None:
    name, restricted = VENDOR_PREFIXES[prefix]
    spec = model_for_serial(prefix + "123456")
    assert spec is not None
    assert spec.name == name
    assert spec.restricted_sync is restricted


def test_unknown_serial_has_no_model() -> None:
    assert model_for_serial("1234567000001") is None


def test_model_lookup_is_case_insensitive_and_errors_list_known_models() -> None:
    assert model("c302") is MODELS["C302"]
    with pytest.raises(KeyError) as info:
        model("C999")
    assert "C999" in str(info.value)
    assert "Molto2" in str(info.value)


@pytest.mark.parametrize(
    ("model_name", "change", "field"),
    [
        ("C301", {"digits": 8}, "digits"),
        ("C301", {"period": 45}, "period"),
        ("C302", {"algorithm": Algorithm.SHA512}, "algorithm"),
        ("miniOTP-3", {"secret": Secret(b"\x01" * 64, kind="seed")}, "secret"),
        ("OTPC-P2", {"display_timeout": 45}, "display_timeout"),
        ("C302", {"profile": 1}, "profile"),
        ("Molto2", {"profile": 50}, "profile"),
        ("Molto2", {"digits": 7}, "digits"),
    ],
)
def test_refusal_names_model_and_field(
    model_name: str, change: dict[str, object], field: str
) -> None:
    with pytest.raises(UnsupportedConfig) as info:
        request(**change).check_against(MODELS[model_name])
    assert info.value.model == model_name
    assert info.value.field == field
    assert str(info.value).startswith(f"{model_name}: {field}: ")


def test_refusal_never_shows_the_seed() -> None:
    seed = b"TOPSECRETSEEDMATERIAL" * 4  # 84 bytes: refused for length
    with pytest.raises(UnsupportedConfig) as info:
        request(secret=Secret(seed, kind="seed")).check_against(MODELS["C301"])
    assert "TOPSECRET" not in str(info.value)
    assert "84-byte" in str(info.value)
    assert "TOPSECRET" not in repr(request(secret=Secret(seed, kind="seed")))


@given(
    name=st.sampled_from(sorted(MODELS)),
    length=st.integers(min_value=1, max_value=63),
    algorithm=st.sampled_from([Algorithm.SHA1, Algorithm.SHA256]),
    period=st.sampled_from([30, 60]),
    timeout=st.sampled_from([15, 30, 60, 120]),
)
def test_every_model_accepts_the_common_token2_envelope(
    name: str, length: int, algorithm: Algorithm, period: int, timeout: int
) -> None:
    request(
        secret=Secret(b"\x01" * length, kind="seed"),
        algorithm=algorithm,
        period=period,
        display_timeout=timeout,
    ).check_against(MODELS[name])


@pytest.mark.parametrize("digits", [4, 6, 8, 10])
def test_molto2_takes_4_to_10_digits_and_single_profile_tokens_only_6(digits: int) -> None:
    request(digits=digits).check_against(MODELS["Molto2"])
    if digits != 6:
        with pytest.raises(UnsupportedConfig):
            request(digits=digits).check_against(MODELS["C302"])


def test_molto2_profiles_have_their_own_time_and_keep_seeds() -> None:
    for name, profiles in (("Molto2", 50), ("Molto2v2", 100)):
        spec = MODELS[name]
        assert spec.profiles == profiles
        assert spec.per_profile_time
        assert not spec.restricted_sync
        assert spec.transport == "usb-ccid"
