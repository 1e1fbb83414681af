"""A lying rig never fails a token: every answer against the protocol makes the token
inconclusive, with a finding that blames the rig and quotes the answer safely.

A real simulated rig serves two healthy C302 tokens on a kernel pty. Between it and
``tokenrig qualify`` sits :class:`LyingProxy`, a TCP front (``socket://``) that forwards
every request unchanged and rewrites the rig's answers in one way per kind of lie: codes of
letters, minus signs, 500 digits or a position short; a 40-digit, a backwards or a per-slot
``ms``; ``key=value`` words, missing and extra values, control and non-ASCII bytes, an
over-long line, an ``ERR`` without a code, an unknown code, a ``SLOT? 2`` answered with
slot 1's token, a ``CONF`` answer that is neither ``KEPT`` nor ``ERASED``, and an ``ERR``
that echoes the seed it was sent. Each kind is a real
qualification run (subprocess, real time, the ``burn`` procedure and ``provision``).

What must hold for every kind: no ``fail`` verdict; every token the proxy lied to is
``inconclusive`` with no finding against it and an error that names the rig's violation; no
seed hex anywhere in the output. A duplicated answer line is the one lie the tags make
harmless: those tokens must pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import serial

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

ROOT = Path(__file__).resolve().parents[2]
_POLL_S = 0.05


@dataclass(frozen=True)
class Asked:
    """The request an answer is for, as the proxy saw it go by."""

    tag: bytes
    command: str
    slot: int | None
    args: tuple[bytes, ...] = ()


Lie = Callable[[Asked, bytes, dict[str, object]], bytes]
"""(request, the rig's true answer line with its LF, per-run state) -> the bytes to send."""


def _values(answer: bytes) -> list[bytes]:
    return answer.rstrip(b"\r\n").split(b" ")[2:]  # after "@tag OK"


def _ok(asked: Asked, *values: bytes) -> bytes:
    return b" ".join((b"@" + asked.tag, b"OK", *values)) + b"\n"


def _reading(change: Callable[[bytes, bytes], tuple[bytes, ...]]) -> Lie:
    """A lie about a display reading: ``change(ms, code)`` -> the values sent instead."""

    def lie(asked: Asked, answer: bytes, _state: dict[str, object]) -> bytes:
        if asked.command not in ("DISP?", "WATCH?") or answer.split(b" ")[1:2] != [b"OK"]:
            return answer
        ms, code, *rest = _values(answer)
        return _ok(asked, *change(ms, code), *rest)

    return lie


def _backwards(ms: bytes, code: bytes) -> tuple[bytes, ...]:
    return (str(10**12 - int(ms)).encode(), code)  # a valid size, counting down


def _slot_2_behind(asked: Asked, answer: bytes, state: dict[str, object]) -> bytes:
    """Slot 2's stamps a minute behind slot 1's: a rig with a counter per slot (§4: one
    counter for the whole rig)."""
    if asked.slot != 2:
        return answer
    behind = _reading(lambda ms, code: (str(max(0, int(ms) - 60_000)).encode(), code))
    return behind(asked, answer, state)


def _slot_2_claims_slot_1(asked: Asked, answer: bytes, state: dict[str, object]) -> bytes:
    """``SLOT? 2`` answered with what slot 1 holds: an answer for another slot."""
    if asked.command != "SLOT?":
        return answer
    if asked.slot == 1:
        state["slot 1"] = answer.split(b" ", 1)[1]
    elif asked.slot == 2 and isinstance(held := state.get("slot 1"), bytes):
        return b"@" + asked.tag + b" " + held
    return answer


def _on(command: str, line: Callable[[Asked], bytes]) -> Lie:
    def lie(asked: Asked, answer: bytes, _state: dict[str, object]) -> bytes:
        return line(asked) if asked.command == command else answer

    return lie


def _twice(asked: Asked, answer: bytes, _state: dict[str, object]) -> bytes:
    return answer + answer if asked.command in ("DISP?", "PRESS") else answer


@dataclass(frozen=True)
class Kind:
    name: str
    lie: Lie
    expect: str  # in an error of every token lied to
    slots: int = 1  # tokens in the rig (a qualification per kind; one token keeps it short)


KINDS = [
    Kind("code-letters", _reading(lambda ms, _c: (ms, b"ABCDEF")), "not OFF nor digits"),
    Kind("code-negative", _reading(lambda ms, _c: (ms, b"-12345")), "not OFF nor digits"),
    Kind("code-500-digits", _reading(lambda ms, _c: (ms, b"7" * 500)), "code has 500 positions"),
    Kind("code-one-short", _reading(lambda ms, c: (ms, c[:-1])), "rig protocol violation"),
    Kind("ms-40-digits", _reading(lambda _m, c: (b"9" * 40, c)), "has 40 digits"),
    Kind("ms-backwards", _reading(_backwards), "ran backwards"),
    Kind("ms-per-slot", _slot_2_behind, "ran backwards", slots=2),
    Kind("key-value", _reading(lambda ms, c: (b"ms=" + ms, b"code=" + c)), "not a decimal"),
    Kind("missing-value", _reading(lambda ms, _c: (ms,)), "2 value(s) expected, got 1"),
    Kind("extra-value", _reading(lambda ms, c: (ms, c, b"7")), "unknown extra value"),
    Kind("control-bytes", _reading(lambda ms, c: (ms + b"\x07\x1b[2J", c)), "not a protocol line"),
    Kind("non-ascii", _reading(lambda ms, c: (ms, c + "é€".encode())), "not a protocol line"),
    Kind("over-long-line", _reading(lambda ms, c: (ms, c, b"9" * 1100)), "not a protocol line"),
    Kind(
        "err-garbage",
        _on("DISP?", lambda a: b"@" + a.tag + b" ERR melted ?!\n"),
        "not a protocol line",
    ),
    Kind(
        "err-unknown-code",
        _on("DISP?", lambda a: b"@" + a.tag + b" ERR 999 coil melted\n"),
        "ERR 999 coil melted",
    ),
    Kind("slot-2-says-slot-1", _slot_2_claims_slot_1, "expected serial", slots=2),
    Kind("conf-maybe", _on("CONF", lambda a: _ok(a, b"MAYBE")), "is not ERASED or KEPT"),
]


class LyingProxy:
    """``socket://127.0.0.1:port`` in front of a rig on a pty: requests pass through as they
    are, each answer line is handed to ``lie`` first. Records which slots it lied to and the
    seed hex it saw go by (to prove none of it is quoted back)."""

    def __init__(self, upstream: str, lie: Lie) -> None:
        self._up = serial.serial_for_url(upstream, timeout=_POLL_S)
        self._lie = lie
        self._state: dict[str, object] = {}
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL_S)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lying proxy", daemon=True)
        self.lied_to: set[int | None] = set()
        self.seeds: set[str] = set()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def __enter__(self) -> LyingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        self._up.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.closing(conn):
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(_POLL_S)
        pending = b""
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    conn.sendall(self._answer(line.rstrip(b"\r")))

    def _answer(self, line: bytes) -> bytes:
        words = line.split()
        asked = Asked(
            tag=words[0][1:] if words[0].startswith(b"@") else b"",
            command=words[1 if words[0].startswith(b"@") else 0].decode().upper(),
            slot=int(words[2]) if len(words) > 2 and words[2].isdigit() else None,
            args=tuple(words[2:]),
        )
        if asked.command == "SEED" and len(words) > 4:
            self.seeds.add(words[4].decode().upper())
        self._up.write(line + b"\n")
        answer = b""
        while not answer.endswith(b"\n") and not self._stop.is_set():
            answer += self._up.readline()
        told = self._lie(asked, answer, self._state)
        if told != answer:
            self.lied_to.add(asked.slot)
        return told


@dataclass
class Run:
    tokens: list[dict[str, object]]
    lied_to: set[int | None]
    seeds: set[str]
    output: str
    files: dict[str, str] = field(default_factory=dict)


def _qualify(tmp_path: Path, lie: Lie, slots: int = 2) -> Run:
    firmware = [make_sim_firmware("C302", clock=SYSTEM_CLOCK, index=i) for i in range(1, slots + 1)]
    rig = SimRig(firmware, clock=SYSTEM_CLOCK)
    with PtyRigServer(rig) as server, LyingProxy(server.path, lie) as proxy:
        listed = "".join(
            f'\n[[slots]]\nslot = {i}\nmodel = "C302"\nserial = "{fw.identity.serial}"\n'
            for i, fw in enumerate(firmware, start=1)
        )
        rig_file = tmp_path / "liar.toml"
        rig_file.write_text(f'name = "liar"\nurl = "{proxy.url}"\ntimeout = 1.0\n{listed}')
        profile = tmp_path / "burn.toml"
        profile.write_text('name = "burn-only"\nprocedures = ["burn"]\n')
        out = tmp_path / "out"
        run = subprocess.run(
            [sys.executable, "-m", "tokenrig", "qualify", "--rig", str(rig_file),
             "--profile", str(profile), "--out", str(out)],
            cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    output = run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode in (0, 1), output
    records = json.loads((out / "records.json").read_text())
    files = {
        str(p.relative_to(out)): p.read_text(errors="replace")
        for p in out.rglob("*")
        if p.is_file() and p.stat().st_size < 5_000_000
    }
    return Run(records["tokens"], proxy.lied_to, proxy.seeds, output, files)


@pytest.fixture
def qualify(tmp_path: Path) -> Callable[..., Run]:
    return lambda lie, slots=2: _qualify(tmp_path, lie, slots)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_a_lying_rig_leaves_its_tokens_inconclusive_never_failed(
    kind: Kind, qualify: Callable[..., Run]
) -> None:
    run = qualify(kind.lie, kind.slots)
    verdicts = {t["slot"]: t["verdict"] for t in run.tokens}
    assert len(verdicts) == kind.slots, run.output
    assert "fail" not in verdicts.values(), json.dumps(run.tokens, indent=1)[:4000]
    lied = {s for s in run.lied_to if s is not None} or set(verdicts)
    assert run.lied_to, "the proxy never lied: the kind tests nothing"
    for token in run.tokens:
        if token["slot"] not in lied:
            continue
        shown = json.dumps(token, indent=1)[:3000]
        assert token["verdict"] == "inconclusive", shown
        assert token["findings"] == [], shown  # nothing is said against the token
        errors = [str(e) for e in token["errors"]]  # type: ignore[attr-defined]
        assert any(kind.expect in e for e in errors), shown
        assert any("rig liar" in e for e in errors), shown
    _no_seed_hex(run)


def _no_seed_hex(run: Run) -> None:
    for name, text in run.files.items():
        upper = text.upper()
        for seed in run.seeds:
            assert seed not in upper, f"seed hex in {name}"


def _echo_seed(asked: Asked, answer: bytes, _state: dict[str, object]) -> bytes:
    if asked.command != "SEED":
        return answer
    return b"@" + asked.tag + b" ERR 500 cannot store " + asked.args[-1] + b"\n"


@pytest.mark.slow
def test_an_err_echoing_the_seed_is_quoted_without_it(qualify: Callable[..., Run]) -> None:
    """A rig that refuses ``SEED`` and quotes the request's hex back: the tokens are
    inconclusive (the rig refused, the token was not measured) and no output holds the hex."""
    run = qualify(_echo_seed)
    assert run.seeds, "no seed went through the proxy"
    assert {t["verdict"] for t in run.tokens} == {"inconclusive"}, run.output
    assert all(t["findings"] == [] for t in run.tokens)
    _no_seed_hex(run)


@pytest.mark.slow
def test_a_duplicated_answer_line_is_harmless(qualify: Callable[..., Run]) -> None:
    """Each ``PRESS`` and ``DISP?`` answer sent twice: the second copy carries a tag already
    answered and is dropped, so the readings are the true ones and the tokens pass."""
    run = qualify(_twice)
    assert run.lied_to
    assert {t["slot"]: t["verdict"] for t in run.tokens} == {1: "pass", 2: "pass"}, run.output
    _no_seed_hex(run)
