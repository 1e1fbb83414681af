"""The ``jc_user`` fixture cleans up even after a failing test; config and typed objects."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from tokenrig.fixtures.jumpcloud import USER_PREFIX, JumpCloudTarget, UserFactory
from tokenrig.harness.jumpcloud import (
    ConfigError,
    JumpCloudClient,
    JumpCloudConfig,
    MfaStatus,
    NotFound,
    SystemUser,
)
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.objects import format_time
from tokenrig.harness.secrets import SecretText

REPO = Path(__file__).resolve().parents[2]

INNER = textwrap.dedent(
    """
    import json, pathlib, pytest

    REPORT = pathlib.Path(__file__).with_name("left.json")

    @pytest.fixture(scope="session", autouse=True)
    def count_leftovers(jumpcloud):
        yield
        client = jumpcloud.client()
        REPORT.write_text(json.dumps([u.username for u in client.all_users()]))

    def test_fails_after_making_users(jc_user):
        jc_user()
        jc_user(require_mfa=True, days=7)
        assert False, "deliberate failure"

    def test_errors_after_making_users(jc_user):
        jc_user()
        raise RuntimeError("deliberate error")
    """
)


def test_jc_user_deletes_users_even_when_tests_fail(tmp_path: Path) -> None:
    inner = tmp_path / "test_inner.py"
    inner.write_text(INNER)
    env = {k: v for k, v in os.environ.items() if k not in ("JUMPCLOUD_URL", "JUMPCLOUD_API_KEY")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tokenrig.fixtures.options",
            "-p",
            "tokenrig.fixtures.jumpcloud",
            str(inner),
        ],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "2 failed" in result.stdout, result.stdout + result.stderr
    assert (tmp_path / "left.json").read_text() == "[]"


def test_jc_user_names_are_recognisable(jc_user: UserFactory, jumpcloud: JumpCloudTarget) -> None:
    user = jc_user()
    assert user.username.startswith(f"{USER_PREFIX}{jumpcloud.run_tag}-")
    assert user.email == f"{user.username}@example.test"


def test_session_target_is_the_emulator_unless_live(
    jumpcloud: JumpCloudTarget, pytestconfig: pytest.Config
) -> None:
    wanted = pytestconfig.getoption("--jumpcloud")
    assert jumpcloud.live is bool(wanted)
    if jumpcloud.emulator is None:
        assert jumpcloud.url == JumpCloudConfig.from_env(wanted).base_url
        return
    assert jumpcloud.url == jumpcloud.emulator.url
    assert jumpcloud.url.startswith("http://127.0.0.1:")
    with jumpcloud.emulator.state.lock:  # the session's key opens the emulator's org
        org = jumpcloud.emulator.state.org_for_key(jumpcloud.config.api_key.reveal())
    assert org is jumpcloud.emulator.org


def test_config_from_env() -> None:
    config = JumpCloudConfig.from_env(
        None, env={"JUMPCLOUD_API_KEY": "abc", "JUMPCLOUD_URL": "http://127.0.0.1:1/api/"}
    )
    assert config.base_url == "http://127.0.0.1:1"
    assert "abc" not in repr(config)
    default = JumpCloudConfig.from_env(None, env={"JUMPCLOUD_API_KEY": "abc"})
    assert default.base_url == "https://console.jumpcloud.com"
    override = JumpCloudConfig.from_env(
        "https://console.eu.jumpcloud.com",
        env={"JUMPCLOUD_API_KEY": "abc", "JUMPCLOUD_ORG_ID": "o" * 24},
    )
    assert (override.base_url, override.org_id) == ("https://console.eu.jumpcloud.com", "o" * 24)


@pytest.mark.parametrize(
    ("url", "env", "fragment"),
    [
        (None, {}, "JUMPCLOUD_API_KEY is not set"),
        ("ftp://x", {"JUMPCLOUD_API_KEY": "k"}, "http(s)://host"),
        ("console.jumpcloud.com", {"JUMPCLOUD_API_KEY": "k"}, "http(s)://host"),
    ],
)
def test_config_errors_name_the_problem(
    url: str | None, env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        JumpCloudConfig.from_env(url, env=env)


def test_org_id_header_is_sent(fresh_emulator: Emulator, emulator_key: str) -> None:
    right = JumpCloudClient.connect(fresh_emulator.url, emulator_key, org_id=fresh_emulator.org.id)
    assert right.list_users().total_count == 0
    wrong = JumpCloudClient.connect(fresh_emulator.url, emulator_key, org_id="f" * 24)
    with pytest.raises(NotFound, match="Organization ID Not Found"):
        wrong.list_users()


@pytest.mark.parametrize("bad_id", ["../organizations", "a/b", "", "id?x=1"])
def test_client_refuses_ids_that_change_the_path(bad_id: str) -> None:
    client = JumpCloudClient(JumpCloudConfig("http://127.0.0.1:9", SecretText("k")))
    with pytest.raises(ValueError, match="invalid JumpCloud object id"):
        client.get_user(bad_id)


def test_objects_parse_leniently() -> None:
    user = SystemUser.from_json(
        {
            "_id": "a" * 24,
            "username": "u",
            "email": "u@x.test",
            "state": "WEIRD",
            "mfa": {"exclusionDays": "7"},
            "mfaEnrollment": {"totpStatus": "NEW_THING"},
        }
    )
    assert user.state is None
    assert user.mfa.exclusion_days == 7
    assert user.mfa_enrollment.totp is MfaStatus.UNKNOWN
    assert user.raw["state"] == "WEIRD"


def test_format_time_needs_aware_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("expr", "only_live"),
    [
        ("jumpcloud_live", True),
        ("jumpcloud_live and not hil", True),
        ("hil or jumpcloud_live", False),
        ("not jumpcloud_live", False),
        ("hil", False),
        ("", False),
    ],
)
def test_which_mark_expressions_need_a_real_org(expr: str, only_live: bool) -> None:
    from tokenrig.fixtures.jumpcloud import selects_only_live

    assert selects_only_live(expr) is only_live


def test_selecting_live_tests_without_an_org_says_why_instead_of_deselecting_all(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_x.py").write_text("def test_x(jumpcloud):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k not in ("JUMPCLOUD_URL", "JUMPCLOUD_API_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "jumpcloud_live"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4, result.stdout + result.stderr  # a usage error, not "5"
    assert "-m jumpcloud_live: needs a real JumpCloud org: pass --jumpcloud URL" in result.stderr
