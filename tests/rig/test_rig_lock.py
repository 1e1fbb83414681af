"""Exclusive rig use across processes, and takeover of a lock left by a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.rigs.lock import RigBusy, RigLock, lock_path, pid_alive
from harness.rigs.rig import open_rig

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harness.rigs.lock import RigLock
    lock = RigLock(sys.argv[1], lock_dir=Path(sys.argv[2])).acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


def _spawn_holder(key: str, lock_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, key, str(lock_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_holder_in_another_process_is_refused_with_the_holders_pid(
    tmp_path: Path,
) -> None:
    holder = _spawn_holder("bench-1", tmp_path)
    try:
        with pytest.raises(RigBusy, match=rf"rig bench-1 is in use by PID {holder.pid}"):
            RigLock("bench-1", lock_dir=tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    holder = _spawn_holder("bench-2", tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert not pid_alive(holder.pid)
    lock = RigLock("bench-2", lock_dir=tmp_path).acquire()
    assert lock.took_over_from == holder.pid
    record = json.loads(lock.path.read_text())
    assert record["pid"] == os.getpid()
    lock.release()
    assert not lock.path.exists()


def test_same_process_cannot_take_a_held_lock_twice(tmp_path: Path) -> None:
    with (
        RigLock("bench-3", lock_dir=tmp_path),
        pytest.raises(RigBusy, match=rf"PID {os.getpid()}"),
    ):
        RigLock("bench-3", lock_dir=tmp_path).acquire()
    with RigLock("bench-3", lock_dir=tmp_path) as again:  # released: free again
        assert again.took_over_from is None


def test_a_garbage_lock_file_that_is_old_counts_as_stale(tmp_path: Path) -> None:
    path = lock_path("bench-4", tmp_path)
    path.write_text("{half-writ")
    os.utime(path, (1, 1))
    with RigLock("bench-4", lock_dir=tmp_path) as lock:
        assert lock.took_over_from == 0


def test_different_rigs_do_not_block_each_other(tmp_path: Path) -> None:
    with RigLock("rig-a", lock_dir=tmp_path), RigLock("rig-b", lock_dir=tmp_path) as b:
        assert b.path != lock_path("rig-a", tmp_path)


def test_open_rig_holds_the_lock_until_closed(tmp_path: Path) -> None:
    target = tmp_path / "r.toml"
    target.write_text("name = 'r'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C302'\n")
    rig = open_rig(target, lock_dir=tmp_path)
    assert rig.lock is not None
    path = rig.lock.path
    assert json.loads(path.read_text())["pid"] == os.getpid()
    with pytest.raises(RigBusy):
        RigLock(rig.lock.key, lock_dir=tmp_path).acquire()
    rig.close()
    assert not path.exists()
