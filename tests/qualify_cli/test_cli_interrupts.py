"""Every ``tokenrig`` sub-command stops on Ctrl-C or SIGTERM with one line and 128 + the signal.

``main`` installs the signal handlers before any sub-command is imported, so SIGTERM (a CI
cancel) unwinds like Ctrl-C, through every ``finally`` (rig locks, burns), instead of killing
the process where it stands; a ``KeyboardInterrupt`` out of any sub-command is one line on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokenrig.harness import interrupts
from tokenrig.harness.cli import main as cli_main

WRAPPER = (  # SIGINT restored to its default (a background job starts with it ignored)
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'tokenrig', *sys.argv[1:]])"
)


class _Parser:
    """Stands in for the argument parser: the sub-command's function is what is under test."""

    def __init__(self, command: str, exc: BaseException) -> None:
        self._namespace = argparse.Namespace(command=command, func=self._raise)
        self._exc = exc

    def _raise(self, args: argparse.Namespace) -> int:
        raise self._exc

    def parse_args(self, argv: object) -> argparse.Namespace:
        return self._namespace


@pytest.mark.parametrize("command", cli_main.COMMAND_MODULES)
@pytest.mark.parametrize(
    ("exc", "status", "name"),
    [
        (KeyboardInterrupt(), 130, "SIGINT"),
        (interrupts.Interrupted(signal.SIGTERM), 143, "SIGTERM"),
        (interrupts.Interrupted(signal.SIGHUP), 129, "SIGHUP"),
    ],
    ids=["KeyboardInterrupt", "SIGTERM", "SIGHUP"],
)
def test_an_interrupt_in_any_sub_command_is_one_line_and_128_plus_the_signal(
    command: str,
    exc: BaseException,
    status: int,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_main, "build_parser", lambda: _Parser(command, exc))
    assert cli_main.main([command]) == status
    captured = capsys.readouterr()
    assert captured.err == f"tokenrig {command}: interrupted by {name}\n"
    assert captured.out == ""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_burn_waiting_for_its_uri_stops_cleanly_on_a_real_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """``tokenrig burn --uri -`` blocks reading the URI from stdin; the signal ends it."""
    with subprocess.Popen(
        [sys.executable, "-c", WRAPPER, "burn", "--uri", "-"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TOKENRIG_LOCK_DIR": str(tmp_path)},
    ) as burn:
        _until_reading_stdin(burn.pid)
        burn.send_signal(sig)
        out, err = burn.communicate(timeout=30)
    assert burn.returncode == 128 + sig, err
    assert err == f"tokenrig burn: interrupted by {sig.name}\n"
    assert out == ""


def _until_reading_stdin(pid: int) -> None:
    """Until the process sits in read(0, ...) (Linux: /proc/<pid>/syscall), so the signal
    reaches the sub-command itself, not the start-up (which ends the same way, as
    ``tokenrig: interrupted by ...``)."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        try:
            fields = Path(f"/proc/{pid}/syscall").read_text().split()
        except OSError:
            fields = []
        if fields[:2] == ["0", "0x0"]:  # read() on fd 0
            return
        time.sleep(0.02)
    pytest.fail(f"tokenrig burn (PID {pid}) never waited on stdin")
