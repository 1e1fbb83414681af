"""``tokenrig qualify`` and ``tokenrig report`` as a user runs them: a real process, real files.

Exit statuses are the contract CI relies on: 0 every token passed, 1 a token failed, 2 a usage
or configuration error (with a message naming what was wrong).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokenrig.harness.cli.main import main
from tokenrig.harness.rigs.config import load_rig_file

ROOT = Path(__file__).resolve().parents[2]
SEED = b"qualify-cli-test-seed"


def tokenrig(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "tokenrig", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def records(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "records.json").read_text())
    return data


@pytest.mark.slow
def test_no_arguments_qualifies_the_default_simulated_rig(tmp_path: Path) -> None:
    result = tokenrig("qualify", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (out,) = (tmp_path / "reports").iterdir()  # reports/<UTC timestamp>/
    for name in ("records.json", "tokens.csv", "junit.xml", "report.html"):
        assert (out / name).is_file(), name
    assert any((out / "allure-results").iterdir())
    data = records(out)
    tokens = data["tokens"]
    assert isinstance(tokens, list)
    assert len(tokens) == 8  # rigs/sim.toml
    assert {t["verdict"] for t in tokens} == {"pass"}
    assert data["run"]["profile"]["name"] == "qa"  # type: ignore[index]
    assert "PASS: 8 tokens, 8 passed" in result.stdout


def test_a_rig_name_with_a_slash_and_a_quote_writes_a_replay_file_that_loads(
    tmp_path: Path,
) -> None:
    rig = tmp_path / "odd.toml"
    rig.write_text(
        'name = "bench/7 \\"east\\""\nurl = "sim"\n[[slots]]\nslot = 1\nmodel = "C302"\n'
    )
    out = tmp_path / "out"
    result = tokenrig(
        "qualify", "--rig", str(rig), "--fault", "1=off_by_one_step", "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    (replay,) = out.glob("rig-1-*.toml")
    assert replay.name == "rig-1-bench_7__east_.toml"
    loaded = load_rig_file(replay)
    assert loaded.name == 'bench/7 "east"'
    assert loaded.slots[0].faults == ("off_by_one_step",)


def test_an_injected_fault_fails_its_token_and_the_run(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.csv"
    b32 = base64.b32encode(SEED).decode()
    seeds.write_text(f"slot,secret,algorithm,period\n1,{b32},SHA256,60\n")
    out = tmp_path / "out"
    result = tokenrig(
        "qualify", "--sim", "--slots", "3", "--fault", "2=drift_out_of_spec",
        "--seeds", str(seeds), "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    tokens = records(out)["tokens"]
    assert isinstance(tokens, list)
    verdicts = {t["slot"]: t["verdict"] for t in tokens}
    assert verdicts == {1: "pass", 2: "fail", 3: "pass"}
    (slot2,) = (t for t in tokens if t["slot"] == 2)
    assert any("clock drifts" in f["defect"] for f in slot2["findings"])
    assert "clock drifts" in result.stdout  # the live verdict names the defect
    (slot1,) = (t for t in tokens if t["slot"] == 1)
    from tokenrig.harness.secrets import fingerprint

    assert slot1["seed_fingerprint"] == fingerprint(SEED)
    # The seed itself is nowhere in what the run wrote.
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert b32.encode() not in text, path
            assert SEED not in text, path
            assert SEED.hex().encode() not in text, path
    # `tokenrig report` renders the page again from records.json alone.
    (out / "report.html").unlink()
    again = tokenrig("report", str(out), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "8659632000002" in (out / "report.html").read_text()


@pytest.mark.slow
def test_jobs_merge_worker_records_into_one_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = tokenrig(
        "qualify", "--sim", "--slots", "4", "--jobs", "2", "--fault", "3=off_by_one_step",
        "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    tokens = records(out)["tokens"]
    assert isinstance(tokens, list)
    assert [t["slot"] for t in tokens] == [1, 2, 3, 4]  # each token once, all workers merged
    assert [t["verdict"] for t in tokens] == ["pass", "pass", "fail", "pass"]
    parts = sorted(p.name for p in (out / "parts").iterdir())
    assert "records-gw0.json" in parts
    assert "records-gw1.json" in parts
    # One worker ran all of a token's procedures: its one record lists every qa procedure.
    qa = {"burn", "leading_zero", "clock_offset", "drift", "power_cycle", "provision"}
    assert all(qa <= set(t["procedures"]) for t in tokens)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "nope"], "nope: no such profile file"),
        (["--sim", "--slots", "2", "--fault", "5=drift_out_of_spec"], "no slot 5"),
        (["--sim", "--fault", "1=melted"], "unknown fault"),
        (["--slots", "3"], "--slots needs --sim"),
        (["--rig", "missing.toml"], "missing.toml"),
        (["--sim", "--jobs", "0"], "--jobs 0"),
        (["--sim", "--seeds", "nope.csv"], "nope.csv: no such file"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    # In-process through the same entry point: these fail before any suite would start.
    status = main(["qualify", *args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert "Traceback" not in err


def test_bad_profile_file_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    profile = tmp_path / "mine.toml"
    profile.write_text('name = "mine"\nprocedures = ["burn"]\n[limits."drift.ppm"]\nhigh = "x"\n')
    result = tokenrig("qualify", "--profile", str(profile), cwd=tmp_path)
    assert result.returncode == 2
    assert f'{profile}: limits."drift.ppm".high: expected a finite number' in result.stderr
    assert not (tmp_path / "reports").exists()  # refused before anything ran


def test_report_of_a_directory_without_records_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "records.json: no such file" in capsys.readouterr().err
