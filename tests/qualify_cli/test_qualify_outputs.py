"""What a real ``tokenrig qualify`` run writes for other tools: allure results, JUnit XML and
records.json, parsed as those tools would (not only a hand-built batch).

Allure: one result per procedure and token with a step naming the procedure, the measurements
as parameters, the offset plot (PNG) where drift is outside or near its limits and the offset
samples (CSV) for every token; the rig's wire log only where there is a serial line to log
(real rigs and ``--real-time``). JUnit: a test case per procedure and token with the token's
state in a ``tokenrig`` property.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema

from tests.qualify_cli.test_qualify_command import tokenrig
from tokenrig.harness.reports.tables import records_schema

QA = ("burn", "leading_zero", "clock_offset", "drift", "power_cycle", "provisioned")


def allure_results(out: Path) -> list[dict[str, Any]]:
    results = [json.loads(p.read_text()) for p in (out / "allure-results").glob("*-result.json")]
    assert results, "no allure results"
    return results


def _attachments(result: dict[str, Any]) -> dict[str, str]:
    found = {a["name"]: a["type"] for a in result.get("attachments", [])}
    for step in result.get("steps", []):
        found.update({a["name"]: a["type"] for a in step.get("attachments", [])})
    return found


def test_a_virtual_time_run_writes_allure_junit_and_schema_valid_records(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = tokenrig(
        "qualify", "--sim", "--slots", "2", "--fault", "2=drift_out_of_spec",
        "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads((out / "records.json").read_text())
    jsonschema.Draft202012Validator(records_schema()).validate(data)
    serials = [t["serial"] for t in data["tokens"]]
    assert len(serials) == 2

    results = allure_results(out)
    by_test = {r["name"]: r for r in results}
    for serial in serials:
        for procedure in QA:
            test = by_test[f"test_{procedure}[{serial}]"]
            step = "provision" if procedure == "provisioned" else procedure
            steps = [s["name"] for s in test["steps"]]
            assert steps == [f"{step}: {serial} ({_model(test)})"]
            params = {p["name"]: p["value"] for p in test["parameters"]}
            assert params["serial"].strip("'") == serial  # allure shows values as reprs
        drift = by_test[f"test_drift[{serial}]"]
        params = {p["name"]: p["value"] for p in drift["parameters"]}
        assert {"drift.ppm", "drift.ppm_uncertainty", "window.days_in_window"} <= set(params)
        assert _attachments(drift)["offset over the soak (csv)"] == "text/csv"
    good, bad = (by_test[f"test_drift[{s}]"] for s in serials)
    assert bad["status"] == "failed"
    assert _attachments(bad)["offset over the soak"] == "image/png"
    png = next(a for a in bad["attachments"] if a["type"] == "image/png")
    assert (out / "allure-results" / png["source"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "image/png" not in _attachments(good).values()  # healthy drift: data, no plot
    assert not any("wire log" in name for r in results for name in _attachments(r))

    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")  # noqa: S314 (our own run)
    states = {}
    for case in cases:
        (prop,) = [p for p in case.iter("property") if p.get("name") == "tokenrig"]
        states[case.get("name")] = json.loads(prop.get("value") or "{}")
    assert len(states) == 2 * len(QA)
    assert states[f"test_drift[{serials[1]}]"]["verdict"] == "fail"
    assert any("clock drifts" in f for f in states[f"test_drift[{serials[1]}]"]["findings"])
    assert states[f"test_burn[{serials[0]}]"]["procedure"] == "burn"


def _model(result: dict[str, Any]) -> str:
    params = {p["name"]: p["value"] for p in result["parameters"]}
    return str(params["model"]).strip("'")


def test_a_real_time_run_attaches_the_wire_log_and_reads_the_clock_over_nfc(
    tmp_path: Path,
) -> None:
    rig = tmp_path / "one.toml"
    rig.write_text('name = "one"\nurl = "sim"\n[[slots]]\nslot = 1\nmodel = "C302"\n')
    profile = tmp_path / "quick.toml"
    profile.write_text('name = "quick"\nprocedures = ["burn", "clock_offset"]\n')
    out = tmp_path / "out"
    result = tokenrig(
        "qualify", "--rig", str(rig), "--real-time", "--profile", str(profile),
        "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "records.json").read_text())
    jsonschema.Draft202012Validator(records_schema()).validate(data)
    (token,) = data["tokens"]
    measured = {m["name"]: m for m in token["measurements"]}
    # Over the rig's APDU pass-through (the Token2 info command), whole seconds; the display
    # timing stays the precise measurement.
    assert measured["clock.nfc_offset_after_sync"]["outcome"] == "pass"
    assert measured["clock.nfc_offset_resolution"]["value"] >= 0.5
    assert measured["clock.offset_resolution"]["value"] <= 0.05
    (provisioned,) = [r for r in allure_results(out) if r["name"].startswith("test_provisioned")]
    wire = [a for a in provisioned["attachments"] if a["name"] == "wire log one"]
    assert len(wire) == 1
    text = (out / "allure-results" / wire[0]["source"]).read_text()
    assert "CONF" in text
    assert "SEED" in text
    assert "APDU" in text
