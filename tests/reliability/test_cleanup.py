"""A killed run leaves nothing behind that blocks or pollutes the next one.

Real subprocesses, real signals: a run holding a rig (and its lock) killed with SIGKILL or
interrupted with SIGINT, and a pytest run that made JumpCloud test users killed with SIGKILL
(its teardown never runs) or SIGINT (its teardown runs). The next run takes the stale lock
over; ``tokenrig jumpcloud sweep`` deletes the users the killed run left in the org.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.jumpcloud import JumpCloudClient
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.rigs.lock import RigLock, lock_path, pid_alive
from tokenrig.harness.rigs.rig import open_rig
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

ROOT = Path(__file__).resolve().parents[2]
VICTIMS = Path(__file__).parent / "victims"
KEY = "cleanup-key-7d21"
WAIT_S = 60.0  # bound on waiting for a child to reach its working state (not a timing assert)


def _wait_for(predicate: object, what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():  # type: ignore[operator]
        if proc.poll() is not None:
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"{what}: the child exited with {proc.returncode}: {output[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{what}: not reached within {WAIT_S:g} s")
        time.sleep(0.05)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture
def pty_rig() -> Iterator[PtyRigServer]:
    rig = SimRig([make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK)
    with PtyRigServer(rig) as server:
        yield server


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_the_next_run_gets_the_rig_of_a_killed_run(
    pty_rig: PtyRigServer, tmp_path: Path, sig: signal.Signals
) -> None:
    holder = subprocess.Popen(
        [sys.executable, str(VICTIMS / "hold_rig.py"), pty_rig.path, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(),
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        assert line == b"held\n", line
        assert lock_path(pty_rig.path, tmp_path).exists()
        holder.send_signal(sig)
        holder.wait(timeout=WAIT_S)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert not pid_alive(holder.pid)
    # SIGINT unwinds the run, which releases the lock; SIGKILL leaves it for a takeover.
    assert lock_path(pty_rig.path, tmp_path).exists() == (sig == signal.SIGKILL)
    with open_rig(pty_rig.path, lock_dir=tmp_path) as rig:
        assert rig.lock is not None
        assert rig.lock.took_over_from == (holder.pid if sig == signal.SIGKILL else None)
        assert rig.client.identify().startswith("TOKENRIG")
    assert not lock_path(pty_rig.path, tmp_path).exists()


@pytest.fixture
def org() -> Iterator[Emulator]:
    with Emulator(api_key=KEY) as emulator:
        yield emulator


def _usernames(emulator: Emulator) -> list[str]:
    with JumpCloudClient.connect(emulator.url, KEY) as client:
        return sorted(u.username for u in client.iter_users())


def _killed_pytest_run(org: Emulator, tmp_path: Path, sig: signal.Signals) -> str:
    marker = tmp_path / "made-user"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            str(VICTIMS / "jc_user_run.py"),
            "--jumpcloud",
            org.url,
            "-p",
            "no:randomly",
            "-q",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(JUMPCLOUD_API_KEY=KEY, VICTIM_MARKER=str(marker)),
    )
    try:
        _wait_for(marker.exists, "the victim run making its user", run)
        username = marker.read_text()
        assert username in _usernames(org)
        run.send_signal(sig)
        run.wait(timeout=WAIT_S)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if run.stdout is not None:
            run.stdout.close()
    return username


def test_sweep_deletes_the_users_of_a_run_killed_with_sigkill(
    org: Emulator, tmp_path: Path
) -> None:
    with JumpCloudClient.connect(org.url, KEY) as client:
        client.create_user("alice", "alice@example.test")  # a real user: must survive
    username = _killed_pytest_run(org, tmp_path, signal.SIGKILL)
    assert username.startswith("tokenrig-")
    assert _usernames(org) == ["alice", username]  # the teardown never ran
    sweep = subprocess.run(
        [sys.executable, "-m", "tokenrig", "jumpcloud", "sweep", "--prefix", "tokenrig-",
         "--jumpcloud", org.url],
        capture_output=True,
        text=True,
        env=_env(JUMPCLOUD_API_KEY=KEY),
        timeout=WAIT_S,
        check=False,
    )  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    assert f"deleted {username}" in sweep.stdout
    assert KEY not in sweep.stdout + sweep.stderr
    assert _usernames(org) == ["alice"]


def test_a_run_interrupted_with_sigint_deletes_its_own_users(org: Emulator, tmp_path: Path) -> None:
    _killed_pytest_run(org, tmp_path, signal.SIGINT)
    assert _usernames(org) == []


@pytest.mark.parametrize(
    "content",
    ['{"pid": "abc"}', '{"pid": 1e999}', '{"pid": 100000000000000000000000}', '{"pid": true}'],
    ids=["text", "inf", "huge", "bool"],
)
def test_a_lock_file_naming_no_possible_process_is_taken_over(tmp_path: Path, content: str) -> None:
    """Found by this audit: such a file (hand-edited, or another tool's) raised ValueError or
    OverflowError out of ``acquire`` instead of being treated as stale."""
    path = lock_path("bench-9", tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    lock = RigLock("bench-9", lock_dir=tmp_path).acquire()
    try:
        assert lock.took_over_from == 0
    finally:
        lock.release()
    assert not path.exists()
