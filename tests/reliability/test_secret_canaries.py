"""Canaries: run what handles secrets with recognisable ones, then search everything written and
printed for them, in every spelling. Zero hits.

Seeds start with the 15 bytes ``tokenrig-canary``, whose base32 (any case, with or without
padding), hex (any case, with or without spaces), base64 and raw form are whole characters,
so any canary seed is found whatever follows the prefix and however it was encoded. Passwords
and the API key are searched raw and URL-encoded. PNG files are also read for QR codes: a
screenshot of a QR code is the seed in another spelling.

Runs, each as a subprocess the way a user runs it:
``tokenrig qualify --sim --seeds`` (virtual time, and real time over the serial path so wire
logs exist), ``tokenrig burn --seeds``, ``tokenrig otp code --secret`` (valid and invalid),
``tokenrig otp uri``, ``tokenrig jumpcloud serve --api-key`` and ``sweep``, and the enrollment
suite (``pytest tests/enrollment --alluredir --junitxml``) with the emulator's seeds and the
fixtures' passwords replaced by canaries; tests that fail on purpose with seeds in their locals
(``victims/secret_locals.py``) under ``-l``, ``--showlocals``, ``--tb=long`` and
``--full-trace``; and ``tokenrig qualify`` and ``tokenrig burn`` through a rig that quotes
every seed write it refuses in its ERR text as ``:``/space/``-`` separated hex
(``victims/echo_rig.py``), searched for exactly the bytes the rig quoted as well.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import requests

from tokenrig.harness.enroll.qr import find_qr_texts

ROOT = Path(__file__).resolve().parents[2]
VICTIMS = Path(__file__).parent / "victims"
PREFIX = b"tokenrig-canary"
API_KEY = "tr-canary-apikey-5e1f0c"
PASSWORD_MARK = "canaryPW"


def canary_seed(n: int, length: int = 20) -> bytes:
    return PREFIX + n.to_bytes(length - len(PREFIX), "big")


def needles() -> dict[str, bytes]:
    """What must never appear (compared lower-cased, so every case is covered)."""
    b32 = base64.b32encode(PREFIX).decode()
    forms = {
        "seed base32": b32,
        "seed hex": PREFIX.hex(),
        "seed spaced hex": PREFIX.hex(" "),
        "seed colon hex": PREFIX.hex(":"),
        "seed dashed hex": PREFIX.hex("-"),
        "seed as a C array": ", ".join(f"0x{b:02x}" for b in PREFIX),
        "seed base64": base64.b64encode(PREFIX).decode(),
        "seed raw": PREFIX.decode(),
        "API key": API_KEY,
        "API key (url-encoded)": urllib.parse.quote(API_KEY),
        "password": PASSWORD_MARK,
    }
    return {what: text.lower().encode() for what, text in forms.items()}


def echo_needles(echo_log: Path) -> dict[str, bytes]:
    """Every spelling of what the echoing rig quoted (seeds and SM4 seed-write bodies); the
    first 10 bytes of each are enough to count as a leak."""
    forms = {}
    for n, line in enumerate(echo_log.read_text().split()):
        head = bytes.fromhex(line)[:10]
        for sep in ("", ":", " ", "-"):
            forms[f"rig echo {n} as hex {sep!r}"] = (head.hex(sep) if sep else head.hex()).encode()
    return forms


def leaks(
    files: Iterable[Path], printed: str = "", extra: dict[str, bytes] | None = None
) -> list[str]:
    found = []
    for what, needle in {**needles(), **(extra or {})}.items():
        if needle in printed.lower().encode():
            found.append(f"{what} in the output")
    for path in files:
        data = path.read_bytes()
        low = data.lower()
        found += [
            f"{what} in {path}"
            for what, needle in {**needles(), **(extra or {})}.items()
            if needle in low
        ]
        if data.startswith(b"\x89PNG"):
            for text in find_qr_texts(data):
                found.append(f"a QR code in {path}: {text[:60]!r}")
    return found


def written(*roots: Path) -> list[Path]:
    return [p for root in roots for p in sorted(root.rglob("*")) if p.is_file()]


def tokenrig(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenrig", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def seed_file(path: Path, slots: int, mode: int = 0o600) -> Path:
    rows = [f"{n},{base64.b32encode(canary_seed(n)).decode()}" for n in range(1, slots + 1)]
    path.write_text("slot,secret\n" + "\n".join(rows) + "\n")
    path.chmod(mode)
    return path


def test_the_searcher_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The search is only worth something if it does find a canary in each spelling."""
    seed = canary_seed(7)
    b32 = base64.b32encode(seed).decode()
    for i, text in enumerate(
        [b32, b32.lower().rstrip("="), seed.hex().upper(), seed.hex(" "), API_KEY]
    ):
        (tmp_path / f"{i}.txt").write_text(f"prefix {text} suffix")
    found = leaks(written(tmp_path))
    assert {line.rsplit("/", 1)[1] for line in found} == {f"{i}.txt" for i in range(5)}
    assert leaks([], f"x {PASSWORD_MARK}00001 y") == ["password in the output"]


def test_qualify_with_canary_seeds_writes_and_prints_none_of_them(tmp_path: Path) -> None:
    seeds = seed_file(tmp_path / "seeds.csv", 3, mode=0o644)
    out = tmp_path / "virtual"
    run = tokenrig("qualify", "--sim", "--slots", "3", "--seeds", str(seeds), "--out", str(out),
                   cwd=tmp_path)  # fmt: skip
    assert run.returncode in (0, 1), run.stdout[-2000:] + run.stderr[-2000:]
    assert "readable by every user" in run.stderr  # a world-readable seed file is flagged
    profile = tmp_path / "rt.toml"
    profile.write_text('name = "rt"\nprocedures = ["burn", "leading_zero"]\n')
    # qualify refuses seed rows for slots the rig lacks, so the 2-slot run gets its own file.
    seeds_rt = seed_file(tmp_path / "seeds-rt.csv", 2)
    real = tmp_path / "real-time"
    run_rt = tokenrig(
        "qualify", "--sim", "--slots", "2", "--real-time", "--profile", str(profile),
        "--seeds", str(seeds_rt), "--out", str(real), cwd=tmp_path,
    )  # fmt: skip
    assert run_rt.returncode in (0, 1), run_rt.stdout[-2000:] + run_rt.stderr[-2000:]
    assert "readable by every user" not in run_rt.stderr
    files = written(out, real)
    names = {p.name for p in files}
    assert {"records.json", "tokens.csv", "junit.xml", "report.html"} <= names
    assert any(p.name.endswith(".wire.log") for p in files), "no serial trace to search"
    assert sum(1 for p in files if p.parent.name == "allure-results") > 10
    # The seed file is read, never copied: no file written holds its bytes.
    assert not any(p.read_bytes() in (seeds.read_bytes(), seeds_rt.read_bytes()) for p in files)
    assert leaks(files, run.stdout + run.stderr + run_rt.stdout + run_rt.stderr) == []


def test_burn_with_a_canary_seed_file_prints_none_of_them(tmp_path: Path) -> None:
    seeds = seed_file(tmp_path / "seeds.csv", 3)
    run = tokenrig("burn", "--seeds", str(seeds), "--rig", "sim", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("burned rig sim slot") == 3
    others = [p for p in written(tmp_path) if p != seeds]  # the input itself holds the seeds
    assert leaks(others, run.stdout + run.stderr) == []
    bad = tmp_path / "bad.csv"
    bad.write_text("slot,secret\n1," + base64.b32encode(canary_seed(9)).decode() + "!\n")
    bad.chmod(0o600)
    refused = tokenrig("burn", "--seeds", str(bad), "--rig", "sim", cwd=tmp_path)
    assert refused.returncode == 2
    assert "bad.csv:2" in refused.stderr
    assert leaks([], refused.stdout + refused.stderr) == []


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_otp_code_does_not_echo_the_secret_it_was_given(tmp_path: Path, valid: bool) -> None:
    secret = base64.b32encode(canary_seed(3)).decode() + ("" if valid else "1")
    run = tokenrig("otp", "code", "--secret", secret, "--time", "1700000000", cwd=tmp_path)
    assert run.returncode == (0 if valid else 2), run.stderr
    if valid:
        assert run.stdout.strip().isdigit()
    assert leaks([], run.stdout + run.stderr) == []


def test_otp_uri_shows_a_fingerprint_not_the_secret(tmp_path: Path) -> None:
    b32 = base64.b32encode(canary_seed(4)).decode().rstrip("=")
    for uri in (
        f"otpauth://totp/a:b?secret={b32}&issuer=a",
        f"otpauth://totp/x?secret={b32}&digits=x",
    ):
        run = tokenrig("otp", "uri", uri, cwd=tmp_path)
        assert run.returncode in (0, 2), run.stderr
        assert leaks([], run.stdout + run.stderr) == []


def test_jumpcloud_serve_and_sweep_never_print_the_api_key(tmp_path: Path) -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "tokenrig", "jumpcloud", "serve", "--api-key", API_KEY],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert serve.stdout is not None
        first = serve.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        made = requests.post(url + "/api/systemusers", headers={"x-api-key": API_KEY},
                             json={"username": "tokenrig-x1", "email": "x1@example.test"},
                             timeout=5)  # fmt: skip
        assert made.status_code == 200
        sweeps = [
            tokenrig(
                "jumpcloud",
                "sweep",
                "--prefix",
                "tokenrig-",
                "--jumpcloud",
                url,
                cwd=tmp_path,
                env={"JUMPCLOUD_API_KEY": key},
            )
            for key in (API_KEY + "-wrong", API_KEY)
        ]
        serve.send_signal(signal.SIGINT)
        out, err = serve.communicate(timeout=20)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()
    assert sweeps[0].returncode == 2  # a refused key: configuration, stopped before any call
    assert "401" in sweeps[0].stderr
    assert sweeps[1].returncode == 0
    assert "deleted tokenrig-x1" in sweeps[1].stdout
    printed = first + out + err + "".join(s.stdout + s.stderr for s in sweeps)
    assert leaks(written(tmp_path), printed) == []


def test_the_enrollment_suite_with_canary_seeds_and_passwords_leaks_none(tmp_path: Path) -> None:
    """The whole enrollment suite but its browser tests (``tests/enrollment`` has its own
    browser-run canary test, which also reads every screenshot for a QR code) and its NFC
    variants (pcscd runs once per machine and this session may hold it; NFC APDU logs are
    checked for seeds by ``tests/nfc``)."""
    results = tmp_path / "allure-results"
    junit = tmp_path / "junit.xml"
    tally = tmp_path / "tally"
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests/enrollment", "-m", "not browser",
            "-k", "not nfc",  # pcscd is one per machine and this session may hold it
            "-p", "leak_probe_plugin", "-p", "no:randomly", "-q", "-rA",
            f"--alluredir={results}", f"--junitxml={junit}",
            f"--basetemp={tmp_path / 'basetemp'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": f"{VICTIMS}{os.pathsep}{ROOT}",
             "LEAK_PROBE_TALLY": str(tally)},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    used = tally.read_text().split()
    assert used.count("seed") >= 5, "the emulator did not hand out the canary seeds"
    assert used.count("password") >= 5, "the fixtures did not use the canary passwords"
    files = [*written(results), junit]
    assert len(files) > 20
    assert leaks(files, run.stdout + run.stderr) == []


@pytest.mark.parametrize(
    "options",
    [["-l"], ["--showlocals"], ["--tb=long", "-l"], ["--full-trace", "-l"], ["--full-trace"]],
    ids=" ".join,
)
def test_failing_tests_with_seeds_in_their_locals_leak_none(
    tmp_path: Path, options: list[str]
) -> None:
    """Five tests fail on purpose with the seed in locals of every secret-holding type, in
    compared values, in harness frames and in captured output (victims/secret_locals.py)."""
    results = tmp_path / "allure-results"
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(VICTIMS / "secret_locals.py"), *options,
            "-p", "no:randomly", "-rA", f"--alluredir={results}", f"--junitxml={junit}",
            f"--basetemp={tmp_path / 'basetemp'}",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT),
             "CANARY_SEED_HEX": canary_seed(11).hex()},
    )  # fmt: skip
    printed = run.stdout + run.stderr
    assert run.returncode == 1, printed[-3000:]
    assert "5 failed" in printed, printed[-3000:]
    if "-l" in options or "--showlocals" in options:  # the locals really were printed
        assert re.search(r"burned\s+= Burned\(key=<20 bytes redacted>", printed), printed[-3000:]
        assert re.search(r"raw\s+= <bytes literal", printed), printed[-3000:]
    if "--full-trace" in options:  # and so were the harness frames
        assert "tokenrig/harness/otp/base32.py" in printed
    assert "<25 bytes as hex>" in printed  # the echoed APDU (5 header bytes + seed), scrubbed
    files = [*written(results), junit]
    assert sum(1 for p in files if p.name.endswith("-result.json")) == 5
    assert leaks(files, printed) == []


@pytest.fixture
def echo_rig(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """victims/echo_rig.py on a pty: its path and the log of what it quoted."""
    echo_log = tmp_path / "echoed.hex"  # the test's own record: never searched
    rig = subprocess.Popen(
        [sys.executable, str(VICTIMS / "echo_rig.py"), "2", str(echo_log)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert rig.stdout is not None
        yield rig.stdout.readline().strip(), echo_log
    finally:
        rig.terminate()
        rig.communicate(timeout=10)


def test_qualify_through_a_rig_echoing_seeds_with_separators_leaks_none(
    tmp_path: Path, echo_rig: tuple[str, Path]
) -> None:
    """Every seed write is refused with the seed quoted as ``:``, space or ``-`` separated hex;
    pytest runs with ``-l --tb=long --full-trace``. Every output of the run is searched."""
    pty, echo_log = echo_rig
    seeds = seed_file(tmp_path / "seeds.csv", 2)
    out = tmp_path / "out"
    run = tokenrig(
        "qualify", "--rig", pty, "--seeds", str(seeds), "--out", str(out),
        "--", "-l", "--tb=long", "--full-trace", cwd=tmp_path,
    )  # fmt: skip
    printed = run.stdout + run.stderr
    assert run.returncode == 1, printed[-3000:]
    echoed = echo_log.read_text().split()
    assert sum(1 for line in echoed if bytes.fromhex(line).startswith(PREFIX)) >= 2
    records = json.loads((out / "records.json").read_text())
    assert [t["verdict"] for t in records["tokens"]] == ["inconclusive"] * 2  # a rig fault
    assert "refused <20 bytes as hex>" in (out / "records.json").read_text()
    files = written(out)
    assert {"records.json", "tokens.csv", "junit.xml", "report.html", "pytest.log"} <= {
        p.name for p in files
    }
    assert any(p.name.endswith(".wire.log") for p in files)
    assert leaks(files, printed, echo_needles(echo_log)) == []


def test_burn_through_a_rig_echoing_the_sm4_seed_write_leaks_none(
    tmp_path: Path, echo_rig: tuple[str, Path]
) -> None:
    """The NFC seed write (``84 C5``, the seed under a public key) quoted back in ERR text."""
    pty, echo_log = echo_rig
    seeds = seed_file(tmp_path / "seeds.csv", 2)
    run = tokenrig("burn", "--seeds", str(seeds), "--rig", pty, cwd=tmp_path)
    printed = run.stdout + run.stderr
    assert run.returncode == 1, printed[-3000:]
    assert printed.count("seed write failed") == 2, printed
    assert [line[:4] for line in echo_log.read_text().split()] == ["84c5", "84c5"]
    others = [p for p in written(tmp_path) if p not in (seeds, echo_log)]
    assert leaks(others, printed, echo_needles(echo_log)) == []
