"""--seeds for qualification: seeds by slot or by serial; errors name the file, never a secret."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.qualify.seeds import SeedFileError, load_seed_book

SECRET = base64.b32encode(b"0123456789abcdefghij").decode()


def test_seeds_by_slot(tmp_path: Path) -> None:
    path = tmp_path / "seeds.csv"
    path.write_text(f"slot,secret,algorithm,period\n1,{SECRET},SHA256,60\n2,{SECRET.lower()},,\n")
    book = load_seed_book(path)
    one = book.for_token(1, "8659600000001")
    two = book.for_token(2, "8659600000002")
    assert one is not None
    assert two is not None
    assert one.secret.reveal() == b"0123456789abcdefghij"
    assert (one.algorithm, one.period) == (Algorithm.SHA256, 60)
    assert (two.algorithm, two.period) == (Algorithm.SHA1, 30)
    assert book.for_token(3, "x") is None
    assert SECRET not in repr(one)


def test_seeds_by_serial(tmp_path: Path) -> None:
    path = tmp_path / "seeds.csv"
    path.write_text(f"serial,secret\n8659632000002,{SECRET}\n")
    book = load_seed_book(path)
    assert book.for_token(7, "8659632000002") is not None
    assert book.for_token(2, "8659600000001") is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("slot,seed\n", "column"),
        (f"slot,secret,algorithm,period\nx,{SECRET},SHA1,30\n", ":2: column 1 (slot)"),
        (f"slot,secret,digits\n1,{SECRET},8\n", "6-digit codes"),
        ("slot,secret\n1,SECRET!8CHARS\n", ":2: column 2 (secret)"),
    ],
)
def test_seed_file_errors(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "seeds.csv"
    path.write_text(body)
    with pytest.raises(SeedFileError) as caught:
        load_seed_book(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "SECRET!" not in str(caught.value)
