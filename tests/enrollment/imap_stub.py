"""A small IMAP4rev1 server on 127.0.0.1 for testing the harness's IMAP mailbox reader.

It speaks just the part of IMAP that :class:`~tokenrig.harness.enroll.mailbox.ImapMailbox` uses
(CAPABILITY, LOGIN, SELECT/EXAMINE, SEARCH TO, FETCH RFC822, LOGOUT) over a real TCP socket,
so the harness's real :mod:`imaplib` client, its quoting and its literal parsing are what get
tested. It keeps its mails in memory and counts logins (one per poll of the mailbox).

A full IMAP server (pymap, Dovecot) would test nothing more here and cost a dependency.
"""

from __future__ import annotations

import shlex
import socketserver
import threading
from email import message_from_bytes
from email.message import EmailMessage
from types import TracebackType


def activation_mail(to: str, link: str) -> bytes:
    """An activation mail as JumpCloud sends one: plain text and HTML, the link in both."""
    message = EmailMessage()
    message["From"] = "JumpCloud <noreply@jumpcloud.test>"
    message["To"] = to
    message["Subject"] = "Activate your account"
    message.set_content(f"Hello,\nread https://jumpcloud.test/privacy first.\nActivate: {link}\n")
    message.add_alternative(f"<p><a href='{link}'>Activate</a></p>", subtype="html")
    return message.as_bytes()


class ImapStub(socketserver.ThreadingTCPServer):
    """``with ImapStub(user, password) as server:`` serves on ``127.0.0.1:server.port``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, user: str, password: str, *, folder: str = "INBOX") -> None:
        super().__init__(("127.0.0.1", 0), _ImapSession)
        self.user = user
        self.password = password
        self.folder = folder
        self.logins = 0
        self._mails: list[bytes] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="imap-stub", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def deliver(self, raw: bytes) -> None:
        with self._lock:
            self._mails.append(raw)

    def mails(self) -> list[bytes]:
        with self._lock:
            return list(self._mails)

    def count_login(self) -> None:
        with self._lock:
            self.logins += 1

    def __enter__(self) -> ImapStub:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


class _ImapSession(socketserver.StreamRequestHandler):
    server: ImapStub

    def send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.send("* OK [CAPABILITY IMAP4rev1] tokenrig test IMAP server ready")
        logged_in = False
        selected = False
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, arg = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                user, password = shlex.split(arg)
                if (user, password) == (self.server.user, self.server.password):
                    logged_in = True
                    self.server.count_login()
                    self.send(f"{tag} OK LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            elif not logged_in:
                self.send(f"{tag} BAD log in first")
            elif command in ("SELECT", "EXAMINE"):
                selected = shlex.split(arg)[0] == self.server.folder
                if selected:
                    self.send(f"* {len(self.server.mails())} EXISTS")
                    self.send(f"{tag} OK [READ-ONLY] {command} completed")
                else:
                    self.send(f"{tag} NO no such folder")
            elif not selected:
                self.send(f"{tag} BAD select a folder first")
            elif command == "SEARCH":
                self._search(tag, arg)
            elif command == "FETCH":
                self._fetch(tag, arg)
            else:
                self.send(f"{tag} BAD {command} not supported here")

    def _search(self, tag: str, arg: str) -> None:
        words = shlex.split(arg)
        if len(words) != 2 or words[0].upper() != "TO":
            self.send(f"{tag} BAD only SEARCH TO address")
            return
        wanted = words[1].lower()
        found = [
            str(number)
            for number, raw in enumerate(self.server.mails(), start=1)
            if wanted in str(message_from_bytes(raw)["To"]).lower()
        ]
        self.send(" ".join(["* SEARCH", *found]))
        self.send(f"{tag} OK SEARCH completed")

    def _fetch(self, tag: str, arg: str) -> None:
        number, _, item = arg.partition(" ")
        mails = self.server.mails()
        if item.upper() != "(RFC822)" or not number.isdigit() or not 0 < int(number) <= len(mails):
            self.send(f"{tag} BAD only FETCH n (RFC822) of an existing mail")
            return
        raw = mails[int(number) - 1]
        self.wfile.write(f"* {number} FETCH (RFC822 {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
        self.send(f"{tag} OK FETCH completed")
