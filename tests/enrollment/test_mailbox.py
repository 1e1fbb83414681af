"""Reading the activation mail: the emulator's outbox; the IMAP settings and parsing used
against a real test mailbox; and the IMAP reader talking to a small IMAP server on loopback
(found mail, polling, giving up, refusals and an unreachable server as named errors)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.enrollment.imap_stub import ImapStub, activation_mail
from tokenrig.fixtures.enrollment import EnrollSite
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.enroll import procedure as p
from tokenrig.harness.enroll.mailbox import (
    IMAP_URL_ENV,
    EmulatorOutbox,
    ImapMailbox,
    ImapSettings,
    MailboxError,
    _text_of,
    activation_link_in,
)

REPO = Path(__file__).resolve().parents[2]


def test_outbox_gives_the_activation_link(enroll_site: EnrollSite) -> None:
    if enroll_site.emulator is None:
        pytest.skip("the outbox is the emulator's")
    username, email = enroll_site.new_user()
    user_id = p.add_staged_user(enroll_site.admin, username, email)
    outbox = EmulatorOutbox(enroll_site.url)
    with pytest.raises(MailboxError, match=f"no activation mail to {email}"):
        outbox.activation_link(email)
    p.activate_now(enroll_site.admin, user_id)
    link = outbox.activation_link(email)
    assert link.startswith(enroll_site.url + "/activate?token=")


def test_imap_url_is_parsed_and_the_password_kept_secret() -> None:
    settings = ImapSettings.from_url("imaps://qa%40example.test:s3cr%2Ft@mail.example.test/QA")
    assert (settings.host, settings.port, settings.user, settings.folder, settings.ssl) == (
        "mail.example.test",
        993,
        "qa@example.test",
        "QA",
        True,
    )
    assert settings.password.reveal() == "s3cr/t"
    assert "s3cr" not in repr(settings)
    plain = ImapSettings.from_url("imap://u:p@127.0.0.1:1143")
    assert (plain.port, plain.folder, plain.ssl) == (1143, "INBOX", False)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("pop3://u:p@host/", "scheme must be imap or imaps"),
        ("imaps://host/", "needs user:password@"),
        ("imaps://u:p@/", "no host"),
        ("imaps://u:p@host:port/", "port is not a number"),
    ],
)
def test_bad_imap_urls_are_named(url: str, problem: str) -> None:
    with pytest.raises(MailboxError, match=problem) as err:
        ImapSettings.from_url(url)
    assert "JUMPCLOUD_TEST_IMAP_URL" in str(err.value)


def test_activation_link_is_found_in_a_real_looking_mail() -> None:
    message = EmailMessage()
    message["To"] = "qa@example.test"
    message["Subject"] = "Activate your JumpCloud account"
    message.set_content(
        "Hello,\nSee https://jumpcloud.com/privacy for our policy.\n"
        "Activate: https://console.jumpcloud.com/activate?token=abc123.\n"
    )
    message.add_alternative(
        "<p><a href='https://x.test/activate?token=abc123'>go</a></p>", subtype="html"
    )
    text = _text_of(message)
    assert activation_link_in(text) == "https://console.jumpcloud.com/activate?token=abc123"
    assert activation_link_in("no links here") is None


# -- a real IMAP conversation (imaplib against a small server on 127.0.0.1) ------------------
IMAP_USER = "qa@example.test"
IMAP_PASSWORD = 'Imap "pass" w0rd'  # a space and quotes: imaplib must quote it right
TO = "new.user@example.test"
LINK = "https://console.jumpcloud.test/activate?token=f00d"


def _imap_url(port: int, password: str = IMAP_PASSWORD, folder: str = "INBOX") -> str:
    return f"imap://{quote(IMAP_USER)}:{quote(password, safe='')}@127.0.0.1:{port}/{folder}"


def _mailbox(url: str, clock: VirtualClock, wait: float = 10.0) -> ImapMailbox:
    return ImapMailbox(ImapSettings.from_url(url), wait_seconds=wait, poll_seconds=5, clock=clock)


def test_imap_mailbox_reads_the_newest_activation_link() -> None:
    with ImapStub(IMAP_USER, IMAP_PASSWORD) as server:
        server.deliver(activation_mail("someone.else@example.test", LINK + "-not-yours"))
        server.deliver(activation_mail(TO, LINK + "-old"))
        server.deliver(activation_mail(TO, LINK))
        mailbox = _mailbox(_imap_url(server.port), VirtualClock())
        assert mailbox.activation_link(TO) == LINK
        assert server.logins == 1


def test_imap_mailbox_polls_until_the_mail_arrives() -> None:
    class DeliveringClock(VirtualClock):
        """The mail lands while the reader sleeps between polls."""

        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            server.deliver(activation_mail(TO, LINK))

    with ImapStub(IMAP_USER, IMAP_PASSWORD) as server:
        clock = DeliveringClock()
        assert _mailbox(_imap_url(server.port), clock, wait=60).activation_link(TO) == LINK
        assert server.logins == 2


def test_imap_mailbox_gives_up_after_the_wait_and_says_so() -> None:
    with ImapStub(IMAP_USER, IMAP_PASSWORD) as server:
        server.deliver(activation_mail("someone.else@example.test", LINK))
        clock = VirtualClock()
        started = clock.now()
        mailbox = _mailbox(_imap_url(server.port), clock, wait=10)
        with pytest.raises(MailboxError) as err:
            mailbox.activation_link(TO)
    assert str(err.value) == (
        f"no activation mail to {TO} in 127.0.0.1:{server.port}/INBOX after 10 s"
    )
    assert server.logins == 3  # at 0, 5 and 10 s
    assert clock.now() - started == pytest.approx(10)


@pytest.mark.parametrize(
    ("password", "folder", "problem"),
    [
        ("wrong-password", "INBOX", "login as qa@example.test refused"),
        (IMAP_PASSWORD, "Nope", "folder 'Nope' cannot be opened"),
    ],
)
def test_imap_refusals_name_the_mailbox_and_not_the_password(
    password: str, folder: str, problem: str
) -> None:
    with ImapStub(IMAP_USER, IMAP_PASSWORD) as server:
        mailbox = _mailbox(_imap_url(server.port, password, folder), VirtualClock())
        with pytest.raises(MailboxError) as err:
            mailbox.activation_link(TO)
    assert str(err.value) == f"IMAP 127.0.0.1:{server.port}: {problem}"
    assert password not in str(err.value)
    assert err.value.__cause__ is None


def test_unreachable_imap_server_is_a_mailbox_error_naming_host_and_port() -> None:
    with socket.socket() as placeholder:  # a port nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    mailbox = _mailbox(_imap_url(port), VirtualClock())
    with pytest.raises(MailboxError) as err:
        mailbox.activation_link(TO)
    assert str(err.value) == f"IMAP 127.0.0.1:{port}: Connection refused"


def test_imaps_to_a_plain_text_server_is_a_mailbox_error() -> None:
    with ImapStub(IMAP_USER, IMAP_PASSWORD) as server:
        url = _imap_url(server.port).replace("imap://", "imaps://")
        with pytest.raises(MailboxError, match=rf"^IMAP 127\.0\.0\.1:{server.port}: .*SSL"):
            _mailbox(url, VirtualClock()).activation_link(TO)


def test_bad_imap_url_stops_a_live_session_with_one_line() -> None:
    """With ``--jumpcloud``, a malformed ``JUMPCLOUD_TEST_IMAP_URL`` is a pytest usage error
    before any test runs: one line naming what is wrong, no traceback, no password."""
    env = {
        **os.environ,
        "JUMPCLOUD_API_KEY": "k" * 40,
        IMAP_URL_ENV: "pop3://qa:Canary-imap-pw@mail.example.test/",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/enrollment/test_steps.py",
            "--jumpcloud",
            "http://127.0.0.1:9",
            "--collect-only",
            "-q",
            "-p",
            "no:randomly",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert f"ERROR: {IMAP_URL_ENV}: scheme must be imap or imaps, not 'pop3'" in run.stderr
    assert "Traceback" not in output
    assert "Canary-imap-pw" not in output
