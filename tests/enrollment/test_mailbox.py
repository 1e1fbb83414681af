"""Reading the activation mail: the emulator's outbox, and the IMAP settings and parsing used
against a real test mailbox."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from fixtures.enrollment import EnrollSite
from harness.enroll import procedure as p
from harness.enroll.mailbox import (
    EmulatorOutbox,
    ImapSettings,
    MailboxError,
    _text_of,
    activation_link_in,
)


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
