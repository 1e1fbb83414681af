"""Seed files: what a QA engineer's CSV may contain, and errors that point at the cell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.tokens.seedfile import SeedFileError, load_seed_file

B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238 SHA1 seed "1234567890" * 2


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "seeds.csv"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_slot_file_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, f"slot,secret,algorithm,period\n1,{B32},SHA256,60\n2,{B32.lower()},,\n")
    seeds = load_seed_file(path)
    assert seeds.key == "slot"
    first, second = seeds.entries
    assert (first.slot, first.algorithm, first.period, first.line) == (1, Algorithm.SHA256, 60, 2)
    assert (second.slot, second.algorithm, second.period) == (2, Algorithm.SHA1, 30)
    assert first.secret.reveal() == b"12345678901234567890"
    assert seeds.warnings == ()
    assert first.request().secret == first.secret


def test_serial_file_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, f"serial,secret\n\n8659601000003,{B32}\n")
    (entry,) = load_seed_file(path).entries
    assert entry.serial == "8659601000003"
    assert entry.target == "serial 8659601000003"


def test_world_readable_file_warns(tmp_path: Path) -> None:
    path = write(tmp_path, f"slot,secret\n1,{B32}\n", mode=0o644)
    assert "readable by every user" in load_seed_file(path).warnings[0]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", ":1: empty file"),
        (f"secret,slot\n{B32},1\n", ":1: column 1: the first column"),
        (f"slot,secret,colour\n1,{B32},red\n", ":1: column 3 (colour): unknown column"),
        ("slot,algorithm\n1,SHA1\n", ":1: no 'secret' column"),
        (f"slot,secret\nx,{B32}\n", ":2: column 1 (slot): not a whole number"),
        (f"slot,secret\n0,{B32}\n", ":2: column 1 (slot): slots are numbered from 1"),
        ("slot,secret\n1,GEZDGNB1\n", ":2: column 2 (secret): not base32 at character 8"),
        (f"slot,secret,algorithm\n1,{B32},MD5\n", ":2: column 3 (algorithm): not SHA1"),
        (f"slot,secret,period\n1,{B32},-30\n", ":2: column 3 (period): '-30' is not a positive"),
        (f"slot,secret\n1,{B32},extra\n", ":2: 3 cells, the header has 2"),
        (f"slot,secret\n1,{B32}\n1,{B32}\n", ":3: column 1 (slot): slot 1 already on line 2"),
        ("slot,secret\n", "no seed rows"),
        ("slot,secret\n1,\n", ":2: column 2 (secret): empty"),
        ("slot,secret\n1,  \n", ":2: column 2 (secret): empty"),
        ('slot,secret\n1,"GEZDGNB1\n', ":2: not readable as CSV"),
        (f'slot,secret\n1,"GEZDGNB1\n2,{B32}\n', ":2: not readable as CSV"),
        ('slot,secret\n1,"GEZD"GNB1\n', ":2: not readable as CSV"),
    ],
)
def test_errors_name_file_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SeedFileError) as caught:
        load_seed_file(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert where in message
    assert B32 not in message
    assert "GEZDGNB1" not in message


def test_a_quoted_cell_may_hold_the_secret_and_rows_keep_their_line_numbers(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, f'slot,secret\n1,"{B32}"\n\n3,"{B32}"\n')
    first, second = load_seed_file(path).entries
    assert (first.line, second.line) == (2, 4)
    assert second.secret.reveal() == b"12345678901234567890"


def test_warnings_are_logged_unless_the_caller_prints_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, f"slot,secret\n1,{B32}\n", mode=0o644)
    assert load_seed_file(path, log_warnings=False).warnings
    assert "readable by every user" not in caplog.text
    load_seed_file(path)
    assert "readable by every user" in caplog.text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="no such file"):
        load_seed_file(tmp_path / "nope.csv")


def test_file_is_only_read(tmp_path: Path) -> None:
    path = write(tmp_path, f"slot,secret\n1,{B32}\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    load_seed_file(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
