"""The example session in docs/rig-protocol.md §7 must be a session a correct rig could have.

Firmware engineers copy it. Every code in it is recomputed here from the CONF, SEED and rig
timestamps it shows, so the example cannot drift from the algorithm again.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pyotp

from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.transports.rig_protocol import parse_request, parse_response

DOC = Path(__file__).resolve().parents[2] / "docs" / "rig-protocol.md"


def _example() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 7. Example session", 1)[1].split("## 8.", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None, "§7 has no code block"
    lines = []
    for line in block.group(1).splitlines():
        direction, _, body = line.partition(" ")
        assert direction in {">", "<"}, line
        lines.append((direction, body))
    return lines


def _exchanges() -> dict[str, tuple[str, list[str]]]:
    """Tag -> (request command and args as one list, answer words)."""
    pending: dict[str, list[str]] = {}
    out: dict[str, tuple[str, list[str]]] = {}
    for direction, body in _example():
        if not body.strip():
            continue
        if direction == ">":
            request = parse_request(body.encode())
            if request.tag:
                pending[request.tag] = [request.command, *map(str, request.args)]
        else:
            response = parse_response(body.encode())
            if response.tag:
                words = list(response.values) if response.ok else ["ERR", str(response.code)]
                command = pending.pop(response.tag)
                out[response.tag] = (" ".join(command), words)
    assert not pending, f"requests without an answer: {pending}"
    return out


def test_every_request_in_the_example_gets_one_answer_with_its_tag() -> None:
    assert len(_exchanges()) >= 15


def test_every_code_in_the_example_is_the_totp_the_token_shows() -> None:
    exchanges = list(_exchanges().values())
    time_ms = next(int(a[0]) for r, a in exchanges if r == "TIME?")
    conf = next(r.split() for r, _ in exchanges if r.startswith("CONF "))
    _, _slot, _profile, utc, alg, period, digits, _timeout = conf
    seed = bytes.fromhex(next(r.split()[3] for r, _ in exchanges if r.startswith("SEED ")))

    def token_time(ms: int) -> float:
        return int(utc) + (ms - time_ms) / 1000

    checked = 0
    for request, answer in exchanges:
        if request.split()[0] in {"DISP?", "WATCH?"} and answer[1] != "OFF":
            at = token_time(int(answer[0]))
            expected = totp(
                seed, at, period=int(period), digits=int(digits), algorithm=Algorithm(alg)
            )
            assert answer[1] == expected, f"{request}: shows {answer[1]}, token makes {expected}"
            # pyotp as the independent oracle, as everywhere else in the suite
            assert expected == pyotp.TOTP(base64.b32encode(seed).decode(), interval=int(period)).at(
                int(at)
            )
            checked += 1
        if request.split()[0] == "WATCH?" and answer[2] == "CHANGED":
            at = token_time(int(answer[0]))
            assert at % int(period) < 1.0, "a CHANGED display is seen just after a step boundary"
    assert checked >= 2


def test_the_example_token_clock_agrees_with_the_rig_time() -> None:
    exchanges = list(_exchanges().values())
    utc = int(next(r.split()[3] for r, _ in exchanges if r.startswith("CONF ")))
    time_ms = next(int(a[0]) for r, a in exchanges if r == "TIME?")
    stamps = [int(a[0]) for r, a in exchanges if r.split()[0] in {"DISP?", "WATCH?"}]
    clock = next(int(a[0]) for r, a in exchanges if r.startswith("TCLK?"))
    tclk_index = next(i for i, (r, _) in enumerate(exchanges) if r.startswith("TCLK?"))
    before = max(
        int(a[0]) for r, a in exchanges[:tclk_index] if r.split()[0] in {"DISP?", "WATCH?", "TIME?"}
    )
    assert stamps == sorted(stamps), "rig timestamps never go back"
    assert utc + (before - time_ms) // 1000 <= clock <= utc + (before - time_ms) // 1000 + 2
