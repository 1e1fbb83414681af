"""The guards in front of a run: seed files that would hang or exhaust the reader, --jobs
beyond reason, records files that are not what they claim, and CSV cells a spreadsheet would
run as formulas. Each refusal names what was wrong and exits 2 before anything is touched."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from tokenrig.harness.cli.main import main
from tokenrig.harness.qualify.record import BatchRecord, Finding, TokenRecord
from tokenrig.harness.reports.outputs import RECORDS_JSON
from tokenrig.harness.reports.tables import csv_cell, tokens_csv
from tokenrig.harness.tokens.seedfile import MAX_SEED_FILE_BYTES, SeedFileError, load_seed_file


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_like_a_formula_is_made_text(start: str) -> None:
    assert csv_cell(f'{start}HYPERLINK("http://x")') == f'\'{start}HYPERLINK("http://x")'


@pytest.mark.parametrize("text", ["8659600000001", "fp:1edd8082dbbf", "a=b", ""])
def test_an_ordinary_cell_is_left_as_it_is(text: str) -> None:
    assert csv_cell(text) == text


def test_tokens_csv_defuses_what_a_rig_reports_but_keeps_our_negative_numbers() -> None:
    token = TokenRecord(serial="=cmd|'/c calc'!A1", slot=1, model="C302", rig="@bench")
    token.findings = [Finding("burn", "-1+1 is what the display showed")]
    rows = list(csv.DictReader(io.StringIO(tokens_csv(BatchRecord(run={}, tokens=[token])))))
    (row,) = rows
    assert row["serial"] == "'=cmd|'/c calc'!A1"
    assert row["rig"] == "'@bench"
    assert row["findings"].startswith("'-1+1")
    assert not any(v.startswith(("=", "+", "@")) for v in row.values())


def test_a_seed_file_that_is_a_device_is_refused_without_reading_it() -> None:
    with pytest.raises(SeedFileError, match="not a regular file"):
        load_seed_file("/dev/zero")


def test_a_seed_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "seeds.csv"
    os.mkfifo(fifo)
    with pytest.raises(SeedFileError, match="not a regular file"):
        load_seed_file(fifo)  # opening a FIFO with no writer would block forever


def test_a_seed_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="not a regular file"):
        load_seed_file(tmp_path)


def test_a_huge_seed_file_is_refused_from_its_size_alone(tmp_path: Path) -> None:
    huge = tmp_path / "seeds.csv"
    with huge.open("wb") as f:
        f.truncate(MAX_SEED_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SeedFileError, match="larger than the 16 MiB"):
        load_seed_file(huge)


@pytest.mark.parametrize("jobs", ["0", "-3", "65", "100000"])
def test_jobs_outside_1_to_64_exit_2(
    jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["qualify", "--sim", "--jobs", jobs, "--out", str(tmp_path / "o")]) == 2
    assert f"--jobs {jobs}: expected 1..64" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "records.json"),
        ('{"schema_version": 2, "run": {}, "tokens": "none"}', "tokens"),
        ('{"schema_version": 99, "run": {"status": "complete"}, "tokens": []}', "schema_version"),
    ],
)
def test_report_refuses_a_records_file_that_does_not_match_the_schema(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / RECORDS_JSON).write_text(content)
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "report.html").exists()


def test_report_refuses_a_records_file_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / RECORDS_JSON).write_bytes(b'{"run": "\xff"}')
    assert main(["report", str(tmp_path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_a_well_formed_records_file_round_trips_through_report(tmp_path: Path) -> None:
    record = {
        "schema_version": 2,
        "run": {"status": "complete"},
        "tokens": [],
    }
    (tmp_path / RECORDS_JSON).write_text(json.dumps(record))
    assert main(["report", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").is_file()
