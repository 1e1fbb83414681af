"""``tokenrig enroll --path`` for each path and ``--users`` batches: every enrollment ends
with a login by the token's next code and that same code refused a second time; a batch
gives each user a token of its own, writes a result per user and skips on a re-run what it
already enrolled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokenrig.harness.cli.main import main

LAST_STEPS = [
    "submit the login code",
    "log out",
    "log in again: a code is demanded",
    "the same code is refused a second time",
]


def _json_result(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize(
    ("path", "browser", "marker"),
    [
        ("admin", False, "follow the link and set a password"),
        ("forced", False, "log in: MFA setup is forced"),
        ("self-service", False, "Security: the authenticator app is active"),
        ("forced", True, "log in: MFA setup is forced"),
        ("self-service", True, "Security: the authenticator app is active"),
    ],
)
def test_each_path_enrolls_then_logs_in_once_with_the_token(
    path: str, browser: bool, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["enroll", "--path", path, "--json", *(["--browser"] if browser else [])]
    assert main(argv) == 0
    result = _json_result(capsys)
    assert result["result"] == "enrolled"
    assert result["path"] == path
    steps = result["steps"]
    assert isinstance(steps, list)
    names = [s["name"] for s in steps]
    assert marker in names
    assert names[-4:] == LAST_STEPS
    assert all(s["status"] == "passed" for s in steps)


def test_json_names_the_failed_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rig = tmp_path / "faulty.toml"
    rig.write_text(
        'name = "faulty"\nurl = "sim"\n[[slots]]\nslot = 1\nmodel = "C302"\n'
        'faults = ["seed_lost_on_power_cycle"]\n'
    )
    assert main(["enroll", "--json", "--rig", str(rig)]) == 1
    result = _json_result(capsys)
    assert result["result"] == "failed"
    failed = result["failed_step"]
    assert isinstance(failed, dict)
    assert failed["name"] == "press button and read code"
    assert "display stayed blank" in failed["error"]


def _users(tmp_path: Path, rows: str) -> Path:
    users = tmp_path / "users.csv"
    users.write_text(rows)
    return users


def test_a_20_user_batch_enrolls_each_with_its_own_token_and_a_rerun_skips_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = _users(tmp_path, "username\n" + "".join(f"qa-{i}\n" for i in range(1, 21)))
    out = tmp_path / "out"
    assert main(["enroll", "--users", str(users), "--out", str(out)]) == 0
    data = json.loads((out / "enroll-results.json").read_text())["users"]
    assert [u["username"] for u in data] == [f"qa-{i}" for i in range(1, 21)]
    assert {u["result"] for u in data} == {"enrolled"}
    assert len({u["token_serial"] for u in data}) == 20  # never two users on one token
    assert all(u["steps"] >= 21 for u in data)  # through the final login and the replay
    csv_lines = (out / "enroll-results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("username,email,slot,result")
    assert len(csv_lines) == 21
    assert "[20/20]" in capsys.readouterr().out

    assert main(["enroll", "--users", str(users), "--out", str(out)]) == 0
    again = json.loads((out / "enroll-results.json").read_text())["users"]
    assert {u["result"] for u in again} == {"skipped"}
    assert [u["token_serial"] for u in again] == [u["token_serial"] for u in data]


def test_a_rig_batch_in_real_time_runs_users_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = _users(tmp_path, "username,slot\nbench-a,1\nbench-b,2\n")
    out = tmp_path / "out"
    assert main(["enroll", "--users", str(users), "--rig", "sim", "--out", str(out)]) == 0
    data = json.loads((out / "enroll-results.json").read_text())["users"]
    assert [(u["slot"], u["result"]) for u in data] == [(1, "enrolled"), (2, "enrolled")]
    assert data[0]["token_serial"] != data[1]["token_serial"]


@pytest.mark.parametrize(
    ("rows", "rig", "problem"),
    [
        ("name\nqa-1\n", False, "needs a header with a 'username' column"),
        ("username\nqa-1\nqa-1\n", False, ":3: username qa-1 already on line 2"),
        ("username\nqa 1\n", False, ":2: username 'qa 1'"),
        ("username\nqa-1\n", True, "with --rig each row needs a 'slot' column"),
        ("username,slot\nqa-1,1\nqa-2,1\n", True, ":3: slot 1 already given to line 2"),
        ("username,slot\nqa-1,x\n", True, ":2: slot 'x': not a number"),
        ("username,slot\nqa-1,9\n", True, ":2: slot 9: no token there on rig sim"),
        ("username\n", False, "expected 1..10000 users, got 0"),
    ],
)
def test_a_bad_batch_is_refused_before_any_user_is_touched(
    rows: str, rig: bool, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = _users(tmp_path, rows)
    out = tmp_path / "out"
    argv = ["enroll", "--users", str(users), "--out", str(out), *(["--rig", "sim"] if rig else [])]
    assert main(argv) == 2
    assert problem in capsys.readouterr().err
    assert not (out / "enroll-results.json").exists()


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--path", "admin", "--url", "http://127.0.0.1:9", "--email", "a@b.test"], "--path admin"),
        (["--users", "u.csv"], "--users and --out go together"),
        (["--users", "u.csv", "--out", "o", "--jobs", "0"], "--jobs 0: expected 1..32"),
        (
            ["--users", "u.csv", "--out", "o", "--url", "http://127.0.0.1:9", "--email", "a@b"],
            "--users creates its users",
        ),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str],
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JUMPCLOUD_PORTAL_PASSWORD", "x")
    assert main(["enroll", *argv]) == 2
    assert problem in capsys.readouterr().err


def test_an_out_directory_with_other_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = _users(tmp_path, "username\nqa-1\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["enroll", "--users", str(users), "--out", str(out)]) == 2
    assert "not empty and holds no enroll-results.json" in capsys.readouterr().err
