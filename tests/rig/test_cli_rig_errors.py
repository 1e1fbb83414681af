"""Every command gives a rig it cannot use the same answer: one line naming ``--rig`` or
``--slot``, exit status 2 (the user's setup), never a traceback and never status 1 (which
says a token failed)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenrig.harness.cli.main import main
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.rigs.rig import rig_config_for
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

URI = "otpauth://totp/Lab:qa?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Lab"
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tokenrig.harness.rigs.lock import RigLock
    lock = RigLock(sys.argv[1], lock_dir=Path(sys.argv[2])).acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def served() -> Iterator[PtyRigServer]:
    firmware = make_sim_firmware("C302", clock=SYSTEM_CLOCK)
    with PtyRigServer(
        SimRig([firmware, None], clock=SYSTEM_CLOCK, apdu_factory=card_for)
    ) as server:
        yield server


def _burn(rig: str, slot: int) -> list[str]:
    return ["burn", "--uri", URI, "--rig", rig, "--slot", str(slot)]


def _enroll(rig: str, slot: int) -> list[str]:
    return ["enroll", "--rig", rig, "--slot", str(slot)]


COMMANDS = pytest.mark.parametrize("command", [_burn, _enroll], ids=["burn", "enroll"])


@COMMANDS
def test_a_slot_the_rig_does_not_have_is_exit_2_naming_the_slot(
    command: object, served: PtyRigServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command(served.url, 9)) == 2  # type: ignore[operator]
    err = capsys.readouterr().err
    assert "--slot 9:" in err
    assert "no such slot" in err
    assert "Traceback" not in err


@COMMANDS
def test_an_empty_slot_is_exit_2_naming_the_slot(
    command: object, served: PtyRigServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command(served.url, 2)) == 2  # type: ignore[operator]
    assert "--slot 2:" in capsys.readouterr().err


@COMMANDS
def test_an_unreachable_rig_is_exit_2_naming_the_rig(
    command: object, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "rfc2217://127.0.0.1:1"
    assert main(command(url, 1)) == 2  # type: ignore[operator]
    err = capsys.readouterr().err
    assert f"--rig {url}:" in err
    assert "Traceback" not in err


@COMMANDS
def test_a_rig_another_process_holds_is_exit_2_naming_the_holder(
    command: object,
    served: PtyRigServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TOKENRIG_LOCK_DIR", str(tmp_path))
    key = rig_config_for(served.url).lock_key
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, key, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert main(command(served.url, 1)) == 2  # type: ignore[operator]
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert f"--rig {served.url}:" in err
    assert f"in use by PID {holder.pid}" in err
    assert "Traceback" not in err
