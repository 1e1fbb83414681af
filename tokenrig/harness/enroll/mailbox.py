"""Reading the activation mail: from the emulator's outbox, or from a real IMAP test mailbox.

Against a real org the activation link reaches a real inbox; ``JUMPCLOUD_TEST_IMAP_URL``
(``imaps://user:password@host[:port]/FOLDER``) names one the harness may read with the
standard library's :mod:`imaplib`. The password in that URL is kept as a
:class:`~tokenrig.harness.secrets.SecretText` and never printed. Every way the mailbox can fail (no
connection, TLS, a refused login, a protocol error) is a :class:`MailboxError` naming
``host:port``, so a test run says which mailbox was unreachable instead of a socket traceback.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import requests

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.secrets import SecretText

IMAP_URL_ENV = "JUMPCLOUD_TEST_IMAP_URL"
IMAP_TIMEOUT = 30.0
"""Seconds a connection or one IMAP reply may take before the mailbox counts as unreachable."""
_LINK = re.compile(r"https?://[^\s<>\"']+")
_ACTIVATION_WORDS = ("activat", "password", "reset")


class MailboxError(Exception):
    """No activation mail, or the mailbox could not be read; says which address and why."""


def activation_link_in(text: str) -> str | None:
    """The first link in ``text`` that looks like an activation/set-password link."""
    links = _LINK.findall(text)
    for link in links:
        if any(word in link.lower() for word in _ACTIVATION_WORDS):
            return str(link).rstrip(".,;)")
    return None


class EmulatorOutbox:
    """The emulator's outbox (``GET /__emulator__/outbox?to=``)."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def messages(self, to: str) -> list[dict[str, object]]:
        response = requests.get(
            f"{self.base_url}/__emulator__/outbox", params={"to": to}, timeout=self.timeout
        )
        if response.status_code != 200:
            raise MailboxError(f"emulator outbox: HTTP {response.status_code}")
        messages = response.json().get("messages", [])
        return [m for m in messages if isinstance(m, dict)]

    def activation_link(self, to: str) -> str:
        for message in reversed(self.messages(to)):
            links = message.get("links")
            if message.get("kind") == "activation" and isinstance(links, list) and links:
                return str(links[0])
        raise MailboxError(f"no activation mail to {to} in the emulator's outbox")


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: SecretText
    folder: str = "INBOX"
    ssl: bool = True

    @property
    def address(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> ImapSettings:
        """Parse ``imaps://user:password@host[:port]/FOLDER`` (or ``imap://`` for STARTTLS-less
        test servers); errors name the part that is wrong, never the password."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps"):
            raise MailboxError(
                f"{IMAP_URL_ENV}: scheme must be imap or imaps, not {parts.scheme!r}"
            )
        if not parts.hostname:
            raise MailboxError(f"{IMAP_URL_ENV}: no host")
        if not parts.username or parts.password is None:
            raise MailboxError(f"{IMAP_URL_ENV}: needs user:password@ before the host")
        ssl = parts.scheme == "imaps"
        try:
            port = parts.port or (993 if ssl else 143)
        except ValueError:
            raise MailboxError(f"{IMAP_URL_ENV}: port is not a number") from None
        return cls(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username),
            password=SecretText(unquote(parts.password), "IMAP password"),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            ssl=ssl,
        )


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = body.get_content()
    return content if isinstance(content, str) else ""


class ImapMailbox:
    """A real test mailbox read over IMAP; polls until the activation mail arrives."""

    def __init__(
        self,
        settings: ImapSettings,
        *,
        wait_seconds: float = 180.0,
        poll_seconds: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.clock = clock

    def _connect(self) -> imaplib.IMAP4:
        s = self.settings
        conn = (
            imaplib.IMAP4_SSL(s.host, s.port, timeout=IMAP_TIMEOUT)
            if s.ssl
            else imaplib.IMAP4(s.host, s.port, timeout=IMAP_TIMEOUT)
        )
        try:
            conn.login(s.user, s.password.reveal())
        except imaplib.IMAP4.abort:  # the connection broke: not a verdict on the password
            conn.shutdown()
            raise
        except imaplib.IMAP4.error:
            conn.logout()
            raise MailboxError(f"IMAP {s.address}: login as {s.user} refused") from None
        return conn

    def _newest_link(self, to: str) -> str | None:
        """The newest activation link to ``to`` in the folder, or None (one IMAP session)."""
        try:
            return self._search(to)
        except (OSError, imaplib.IMAP4.error) as exc:  # refused, TLS, timeout, BAD, BYE...
            raise MailboxError(f"IMAP {self.settings.address}: {_reason(exc)}") from None

    def _search(self, to: str) -> str | None:
        conn = self._connect()
        try:
            status, _ = conn.select(self.settings.folder, readonly=True)
            if status != "OK":
                raise MailboxError(
                    f"IMAP {self.settings.address}: folder {self.settings.folder!r} "
                    "cannot be opened"
                )
            status, data = conn.search(None, "TO", f'"{to}"')
            numbers = data[0].split() if status == "OK" and data and data[0] else []
            for number in reversed(numbers):
                status, parts = conn.fetch(number.decode(), "(RFC822)")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
                if status != "OK" or not isinstance(raw, bytes):
                    continue
                message = email.message_from_bytes(raw, policy=email.policy.default)
                if isinstance(message, EmailMessage):
                    link = activation_link_in(_text_of(message))
                    if link:
                        return link
            return None
        finally:
            conn.logout()

    def activation_link(self, to: str) -> str:
        deadline = self.clock.now() + self.wait_seconds
        while True:
            link = self._newest_link(to)
            if link is not None:
                return link
            if self.clock.now() >= deadline:
                raise MailboxError(
                    f"no activation mail to {to} in {self.settings.address}/"
                    f"{self.settings.folder} after {self.wait_seconds:.0f} s"
                )
            self.clock.sleep(self.poll_seconds)


def _reason(exc: BaseException) -> str:
    """What went wrong, in words (an OSError's strerror; an IMAP error's server text)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
