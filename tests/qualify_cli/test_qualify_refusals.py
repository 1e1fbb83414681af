"""``tokenrig qualify`` refuses what cannot be qualified, before any token is touched.

Each case used to go wrong quietly or loudly: an unreachable rig exited 130 without a word,
``--out`` naming a file gave a traceback, two rigs with one name merged their tokens, and seed
rows for missing slots (or that the model cannot burn) were ignored until the very end.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.qualify_cli.test_qualify_command import tokenrig
from tokenrig.harness.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SIM_RIG = ROOT / "tokenrig" / "rigs" / "sim.toml"
B32_20 = base64.b32encode(bytes(range(20))).decode()
B32_64 = base64.b32encode(bytes(range(64))).decode()


def _refused(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    status = main(["qualify", *args])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    return err


def test_an_unreachable_rig_exits_2_naming_the_rig(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = tokenrig("qualify", "--rig", "socket://127.0.0.1:1", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot list the tokens of rig socket://127.0.0.1:1" in result.stderr
    assert "Connection refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_out_naming_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "taken"
    existing.write_text("not a directory\n")
    err = _refused(capsys, ["--sim", "--slots", "1", "--out", str(existing)])
    assert f"--out {existing}: exists and is not a directory" in err
    assert existing.read_text() == "not a directory\n"


def test_a_bad_rig_creates_no_output_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    _refused(capsys, ["--rig", str(tmp_path / "missing.toml"), "--out", str(out)])
    assert not out.exists()


def test_two_rigs_with_one_name_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    err = _refused(capsys, ["--rig", str(SIM_RIG), "--rig", str(SIM_RIG), "--out", str(out)])
    assert "two rigs are named 'sim'" in err
    assert not out.exists()


def _rig(tmp_path: Path, name: str, model: str = "C302") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nurl = "sim"\n'
        f'[[slots]]\nslot = 1\nmodel = "{model}"\n'
        f'[[slots]]\nslot = 2\nmodel = "{model}"\n'
    )
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (f"1,{B32_20},SHA1,30\n9,{B32_20},SHA1,30\n", ":3: column slot: slot 9: rig bench"),
        (f"1,{B32_20},SHA512,30\n", ":2: column algorithm: slot 1 (rig bench, C302): SHA512"),
        (f"2,{B32_64},SHA1,30\n", ":2: column secret: slot 2 (rig bench, C302): 64-byte seed"),
        (f"1,{B32_20},SHA1,45\n", ":2: column period: slot 1 (rig bench, C302): 45 s"),
    ],
)
def test_seed_rows_are_checked_against_the_rig_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: str, message: str
) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("slot,secret,algorithm,period\n" + rows)
    out = tmp_path / "out"
    err = _refused(
        capsys, ["--rig", str(_rig(tmp_path, "bench")), "--seeds", str(seeds), "--out", str(out)]
    )
    assert f"--seeds: {seeds}{message}" in err
    assert B32_20 not in err
    assert B32_64 not in err
    assert not out.exists()


def test_seed_rows_for_unknown_serials_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(f"serial,secret\n8659632999999,{B32_20}\n")
    err = _refused(capsys, ["--rig", str(SIM_RIG), "--seeds", str(seeds)])
    assert f"{seeds}:2: column serial: serial 8659632999999: no token" in err


def test_slot_keyed_seeds_with_several_rigs_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(f"slot,secret\n1,{B32_20}\n")
    rigs = ["--rig", str(_rig(tmp_path, "left")), "--rig", str(_rig(tmp_path, "right"))]
    err = _refused(capsys, [*rigs, "--seeds", str(seeds)])
    assert f"{seeds}:2: column slot: slot 1 names a token on each of 2 rigs" in err
    assert "key the file by serial" in err


def test_serial_keyed_seeds_with_several_rigs_are_accepted(tmp_path: Path) -> None:
    """The same check lets serial rows through and the suite provisions those tokens."""
    left = tmp_path / "left.toml"
    left.write_text('name = "left"\nurl = "sim"\n[[slots]]\nslot = 1\nmodel = "C302"\n')
    right = tmp_path / "right.toml"
    right.write_text(
        'name = "right"\nurl = "sim"\n[[slots]]\nslot = 1\nmodel = "C302"\n'
        'serial = "8659632000777"\n'
    )
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(f"serial,secret\n8659632000777,{B32_20}\n")
    profile = tmp_path / "quick.toml"
    profile.write_text('name = "quick"\nprocedures = ["burn"]\n')
    out = tmp_path / "out"
    result = tokenrig(
        "qualify", "--rig", str(left), "--rig", str(right), "--seeds", str(seeds),
        "--profile", str(profile), "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
