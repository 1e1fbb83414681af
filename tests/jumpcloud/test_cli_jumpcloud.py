"""``tokenrig jumpcloud serve`` as a real child process, ``sweep`` against the emulator."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tokenrig.harness.cli.main import EXIT_OK, EXIT_USAGE, main
from tokenrig.harness.jumpcloud import JumpCloudClient
from tokenrig.harness.jumpcloud.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]


def test_serve_prints_url_serves_and_stops_on_interrupt() -> None:
    key = "cli-serve-key-42"
    process = subprocess.Popen(
        [sys.executable, "-m", "tokenrig", "jumpcloud", "serve", "--api-key", key],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("JumpCloud emulator listening on http://127.0.0.1:")
        url = first.split(" on ")[1].strip()
        second = process.stdout.readline()
        assert "--api-key" in second
        assert key not in first + second
        ok = requests.get(url + "/api/systemusers", headers={"x-api-key": key}, timeout=5)
        assert ok.json() == {"totalCount": 0, "results": []}
        assert requests.get(url + "/api/systemusers", timeout=5).status_code == 401
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == EXIT_OK
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize("argv", [["--port", "70000"], ["--host", "256.0.0.1"]])
def test_serve_bad_address_is_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jumpcloud", "serve", *argv]) == EXIT_USAGE
    assert "tokenrig jumpcloud:" in capsys.readouterr().err


@pytest.fixture
def populated(fresh_emulator: Emulator, emulator_key: str) -> JumpCloudClient:
    client = JumpCloudClient.connect(fresh_emulator.url, emulator_key)
    for n in range(105):  # more than one page of 100
        client.create_user(f"tokenrig-old-{n}", f"tokenrig-old-{n}@example.test")
    client.create_user("keepme", "keepme@example.test")
    client.create_user("tokenri", "tokenri@example.test")
    return client


def test_sweep_deletes_only_prefixed_users(
    populated: JumpCloudClient,
    fresh_emulator: Emulator,
    emulator_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JUMPCLOUD_API_KEY", emulator_key)
    argv = ["jumpcloud", "sweep", "--prefix", "tokenrig-", "--jumpcloud", fresh_emulator.url]
    assert main([*argv, "--dry-run"]) == EXIT_OK
    assert "found 105 user(s)" in capsys.readouterr().out
    assert len(populated.all_users()) == 107
    assert main(argv) == EXIT_OK
    out = capsys.readouterr().out
    assert "deleted 105 user(s) with prefix 'tokenrig-'" in out
    assert emulator_key not in out
    assert sorted(u.username for u in populated.all_users()) == ["keepme", "tokenri"]


@pytest.mark.parametrize("prefix", ["", "t", "-x-", "a b", "tok*"])
def test_sweep_refuses_broad_or_odd_prefix(
    prefix: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JUMPCLOUD_API_KEY", "x")
    assert (
        main(["jumpcloud", "sweep", f"--prefix={prefix}", "--jumpcloud", "http://127.0.0.1:9"])
        == EXIT_USAGE
    )
    assert "--prefix" in capsys.readouterr().err


def test_sweep_without_key_is_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JUMPCLOUD_API_KEY", raising=False)
    assert (
        main(["jumpcloud", "sweep", "--prefix", "tokenrig-", "--jumpcloud", "http://127.0.0.1:9"])
        == EXIT_USAGE
    )
    assert "JUMPCLOUD_API_KEY" in capsys.readouterr().err


def test_sweep_with_wrong_key_stops_before_listing(
    fresh_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JUMPCLOUD_API_KEY", "wrong-key-value")
    assert (
        main(["jumpcloud", "sweep", "--prefix", "tokenrig-", "--jumpcloud", fresh_emulator.url])
        == EXIT_USAGE
    )
    err = capsys.readouterr().err
    assert "the API key was refused (HTTP 401: Unauthorized)" in err
    assert "wrong-key-value" not in err
