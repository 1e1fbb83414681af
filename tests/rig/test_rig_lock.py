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

from tokenrig.harness.rigs.lock import RigBusy, RigLock, lock_path, pid_alive, process_start
from tokenrig.harness.rigs.rig import open_rig

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


def test_a_lock_whose_pid_now_names_another_process_is_stale(tmp_path: Path) -> None:
    """PIDs are reused: a live PID with another start time is not the run that locked."""
    parent = os.getppid()  # alive for the whole test, and not us
    start = process_start(parent)
    assert start is not None
    path = lock_path("bench-5", tmp_path)
    path.write_text(json.dumps({"pid": parent, "start": start + 1, "host": "h", "since": "?"}))
    with RigLock("bench-5", lock_dir=tmp_path) as lock:
        assert lock.took_over_from == parent
        assert json.loads(lock.path.read_text())["start"] == process_start(os.getpid())


def test_a_lock_of_a_live_process_with_its_start_time_is_respected(tmp_path: Path) -> None:
    parent = os.getppid()
    path = lock_path("bench-6", tmp_path)
    path.write_text(
        json.dumps({"pid": parent, "start": process_start(parent), "host": "h", "since": "?"})
    )
    with pytest.raises(RigBusy, match=rf"in use by PID {parent}"):
        RigLock("bench-6", lock_dir=tmp_path).acquire()
