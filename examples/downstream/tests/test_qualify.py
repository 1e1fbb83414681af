"""The team's own rig file, qualified under the team's own profile, passes; the records file
is valid against the schema tokenrig ships and says which profile judged the batch."""

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent.parent


def qualify(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tokenrig", "qualify", "--out", str(out), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_lab_rig_passes_the_badge_profile(tmp_path):
    rig = HERE / "rigs" / "lab-sim.toml"
    profile = HERE / "profiles" / "badge.toml"
    run = qualify(tmp_path, "--rig", str(rig), "--profile", str(profile))
    assert run.returncode == 0, run.stdout + run.stderr

    records = json.loads((tmp_path / "records.json").read_text())
    schema_file = files("tokenrig.harness.reports").joinpath("records.schema.json")
    jsonschema.validate(records, json.loads(schema_file.read_text()))
    assert records["run"]["profile"]["name"] == "badge"
    verdicts = {t["serial"]: t["verdict"] for t in records["tokens"]}
    assert verdicts == dict.fromkeys(
        ["8659632000101", "8659600000102", "8659610000103"], "pass"
    )
    assert (tmp_path / "report.html").is_file()


def test_a_badge_drifting_out_of_spec_fails_the_batch(tmp_path):
    profile = HERE / "profiles" / "badge.toml"
    run = qualify(
        tmp_path, "--sim", "--slots", "2", "--fault", "2=drift_out_of_spec",
        "--profile", str(profile),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    verdicts = [t["verdict"] for t in json.loads((tmp_path / "records.json").read_text())["tokens"]]
    assert verdicts == ["pass", "fail"]
