"""Every RFC 4226 and RFC 6238 known-answer vector, from the project's own copy of them."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tokenrig.harness.otp import Algorithm, hotp, time_step, totp
from tokenrig.harness.otp.base32 import encode_base32
from tokenrig.harness.otp.generator import TotpGenerator

DATA = json.loads((Path(__file__).parent / "data" / "rfc_vectors.json").read_text())
SEEDS = {alg: text.encode("ascii") for alg, text in DATA["seeds_ascii"].items()}
SHARED_COPY = Path(__file__).resolve().parents[2].parent / "shared/reference/rfc-vectors.json"
HOTP_ROWS = DATA["rfc4226"]["rows"]
TOTP_ROWS = DATA["rfc6238"]["rows"]
NEGATIVE_ROWS = DATA["errata_2866_negative"]["rows"]


def _id(row: dict[str, Any]) -> str:
    return f"{row.get('algorithm', 'SHA1')}-{row.get('time', row.get('counter'))}"


def test_the_copy_holds_every_row_of_both_rfcs() -> None:
    assert [row["counter"] for row in HOTP_ROWS] == list(range(10))
    assert len(TOTP_ROWS) == 18  # 6 times x 3 algorithms
    assert {row["algorithm"] for row in NEGATIVE_ROWS} == {"SHA256", "SHA512"}


@pytest.mark.parametrize("row", HOTP_ROWS, ids=_id)
def test_rfc4226_hmac_truncation_and_code(row: dict[str, Any]) -> None:
    key = SEEDS["SHA1"]
    digest = hmac.digest(key, row["counter"].to_bytes(8, "big"), "sha1")
    assert digest.hex() == row["hmac_sha1_hex"]
    offset = digest[-1] & 0x0F
    truncated = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    assert truncated == row["truncated_decimal"] == int(row["truncated_hex"], 16)
    assert hotp(key, row["counter"]) == row["hotp"]
    assert TotpGenerator(key).hotp(row["counter"]) == row["hotp"]


@pytest.mark.parametrize("row", TOTP_ROWS, ids=_id)
def test_rfc6238_row(row: dict[str, Any]) -> None:
    algorithm = Algorithm(row["algorithm"])
    key = SEEDS[row["algorithm"]]
    assert time_step(row["time"]) == int(row["counter_hex"], 16)
    assert totp(key, row["time"], digits=8, algorithm=algorithm) == row["totp"]
    generator = TotpGenerator(key, algorithm=algorithm, digits=8)
    assert generator.at(row["time"]) == row["totp"]
    assert generator.at(float(row["time"])) == row["totp"]
    oracle = pyotp.TOTP(encode_base32(key), digits=8, digest=algorithm.digest_name)
    assert oracle.at(row["time"]) == row["totp"]


@pytest.mark.parametrize("row", NEGATIVE_ROWS, ids=_id)
def test_errata_2866_the_sha1_seed_does_not_give_the_sha2_rows(row: dict[str, Any]) -> None:
    algorithm = Algorithm(row["algorithm"])
    code = totp(SEEDS["SHA1"], row["time"], digits=8, algorithm=algorithm)
    assert code != row["not_totp"]
    assert code == row["totp"]
    assert TotpGenerator(SEEDS["SHA1"], algorithm=algorithm, digits=8).at(row["time"]) == code


def test_the_copy_agrees_with_the_shared_reference() -> None:
    """The project carries its own vectors; where the research copy exists, they must agree."""
    if not SHARED_COPY.is_file():
        pytest.skip(f"no shared reference at {SHARED_COPY} (only present in the project's CI)")
    shared = json.loads(SHARED_COPY.read_text())
    theirs_hotp = {
        (v["counter"], v["expected"], v["hmac_hex"]) for v in shared["vectors"] if v["rfc"] == 4226
    }
    ours_hotp = {(r["counter"], r["hotp"], r["hmac_sha1_hex"]) for r in HOTP_ROWS}
    assert ours_hotp == theirs_hotp
    theirs_totp = {
        (v["time"], v["algorithm"], v["expected"], v["counter_hex"].upper(), v["secret_ascii"])
        for v in shared["vectors"]
        if v["rfc"] == 6238
    }
    ours_totp = {
        (
            r["time"],
            r["algorithm"],
            r["totp"],
            r["counter_hex"],
            DATA["seeds_ascii"][r["algorithm"]],
        )
        for r in TOTP_ROWS
    }
    assert ours_totp == theirs_totp
    negative = shared["negative_control"]
    assert negative["secret_ascii"] == DATA["seeds_ascii"]["SHA1"]
    assert {(negative["time"], alg, negative[alg]) for alg in ("SHA256", "SHA512")} == {
        (r["time"], r["algorithm"], r["totp"]) for r in NEGATIVE_ROWS
    }
