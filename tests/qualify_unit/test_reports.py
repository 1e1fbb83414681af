"""Records and reports: the schema of records.json, the CSV, and a self-contained HTML page."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema

from tokenrig.harness.qualify.measurement import Measurement, Outcome
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.qualify.record import BatchRecord, Finding, TokenRecord
from tokenrig.harness.qualify.verdict import procedure_status
from tokenrig.harness.reports.html import render_html
from tokenrig.harness.reports.outputs import write_outputs
from tokenrig.harness.reports.tables import read_records_json, records_schema

SELECTED = ["drift", "provision"]


def _done(record: TokenRecord) -> TokenRecord:
    """A token whose selected procedures all ran, each ending as its measurements say."""
    record.selected = list(SELECTED)
    for name in SELECTED:
        record.procedures[name] = procedure_status(record, name)
    return record


def _m(
    name: str, value: float, outcome: Outcome, low: float | None, high: float | None
) -> Measurement:
    return Measurement(name, value, "ppm", low, high, 0.0, outcome, "drift")


def sample_batch() -> BatchRecord:
    good = TokenRecord(serial="8659600000001", slot=1, model="miniOTP-2", rig="sim")
    good.measurements = [
        _m("drift.ppm", 3.2, Outcome.PASS, -30, 30),
        _m("clock.offset_after_sync", 0.004, Outcome.PASS, -1.5, 1.5),
    ]
    good.offset_series = [(0.0, 0.0), (15.0, 4.1), (30.0, 8.3)]
    _done(good)
    bad = TokenRecord(serial="8659610000002", slot=2, model="C301", rig="sim")
    bad.measurements = [_m("drift.ppm", 201.0, Outcome.FAIL, -30, 30)]
    bad.findings = [Finding("drift", "clock drifts +201.0 ppm <beyond> the -30..30 ppm limit")]
    bad.offset_series = [(0.0, 0.0), (30.0, 520.0)]
    _done(bad)
    marginal = TokenRecord(serial="8659632000003", slot=3, model="C302", rig="sim")
    marginal.measurements = [_m("drift.ppm", 25.0, Outcome.MARGINAL, -30, 30)]
    _done(marginal)
    run = {
        "status": "complete",
        "profile": load_profile("qa").to_json(),
        "station": "bench-1",
        "rigs": [],
    }
    return BatchRecord(run=run, tokens=[good, bad, marginal])


def test_verdicts_and_summary() -> None:
    batch = sample_batch()
    assert [t.verdict for t in batch.tokens] == ["pass", "fail", "pass"]
    assert batch.summary() == {
        "tokens": 3,
        "passed": 2,
        "failed": 1,
        "marginal": 1,
        "inconclusive": 0,
        "incomplete": 0,
    }
    assert not batch.passed
    errored = _done(TokenRecord(serial="x", slot=9, model="C301", errors=["burn: rig timeout"]))
    assert errored.verdict == "inconclusive"  # not qualified: not accepted, not a defect


def test_an_unjudged_measurement_is_inconclusive_not_pass_nor_fail() -> None:
    batch = sample_batch()
    good = batch.tokens[0]
    good.inconclusive = ["clock_offset: clock.offset_resolution: timed to ±61 ms (limit 50 ms)"]
    assert good.verdict == "inconclusive"
    assert batch.summary()["inconclusive"] == 1
    assert batch.summary()["passed"] == 1
    assert not batch.passed  # an unjudged token is not accepted
    bad = batch.tokens[1]
    bad.inconclusive = list(good.inconclusive)
    assert bad.verdict == "fail"  # a defect found elsewhere still fails it
    again = TokenRecord.from_json(good.to_json())
    assert again.inconclusive == good.inconclusive
    assert "inconclusive: clock_offset" in render_html(batch)


def test_records_json_matches_the_schema_and_round_trips(tmp_path: Path) -> None:
    batch = sample_batch()
    write_outputs(batch, tmp_path)
    data = json.loads((tmp_path / "records.json").read_text())
    jsonschema.Draft202012Validator(records_schema()).validate(data)
    assert data["schema_version"] == 2
    assert data["run"]["status"] == "complete"
    again = read_records_json(tmp_path / "records.json")
    assert [t.to_json() for t in again.tokens] == [t.to_json() for t in batch.tokens]


def test_tokens_csv(tmp_path: Path) -> None:
    write_outputs(sample_batch(), tmp_path)
    rows = list(csv.DictReader((tmp_path / "tokens.csv").open()))
    assert [r["serial"] for r in rows] == ["8659600000001", "8659610000002", "8659632000003"]
    assert rows[1]["verdict"] == "fail"
    assert "201.0 ppm" in rows[1]["findings"]
    assert rows[0]["drift_ppm"] == "3.2"
    assert rows[2]["marginal"] == "drift.ppm"


def test_report_is_one_self_contained_page() -> None:
    html = render_html(sample_batch())
    assert html.count("data:image/png;base64,") == 2  # drift histogram, offsets over time
    assert "<script" not in html
    assert 'src="http' not in html
    assert "&lt;beyond&gt;" in html  # findings are escaped
    assert "8659610000002" in html
    assert "drift.ppm" in html  # the profile's limits are shown
    assert "Token qualification: <span" in html


def test_merge_orders_tokens_and_keeps_every_part() -> None:
    batch = sample_batch()
    merged = BatchRecord.merge({}, [[batch.tokens[2]], [batch.tokens[0], batch.tokens[1]]])
    assert [t.slot for t in merged.tokens] == [1, 2, 3]
