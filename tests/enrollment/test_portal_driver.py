"""The Playwright driver on its own, against tiny pages on a loopback HTTP server (no ids at
all): the QR code is found as the image in the dialog and readable from its element
screenshot, but masked in every screenshot kept for reports; the key printed beneath it must
be the QR code's key (a mismatch names both fingerprints, never a key); an unexpected page is
reported with where the browser is."""

from __future__ import annotations

import base64
import http.server
import io
import threading
from base64 import b32decode
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno

from tokenrig.harness.enroll.qr import decode_qr, find_qr_texts
from tokenrig.harness.jumpcloud.portal_client import PortalError
from tokenrig.harness.jumpcloud.portal_driver import (
    ChromiumSession,
    PortalDriver,
    check_printed_key,
    printed_key,
)
from tokenrig.harness.secrets import Secret, SecretText

pytestmark = pytest.mark.browser

KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
OTHER_KEY = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"
URI = f"otpauth://totp/qa%40example.test?secret={KEY}"


def _page_html(printed: str) -> bytes:
    out = io.BytesIO()
    segno.make(URI, error="m").save(out, kind="png", scale=6, border=4)
    data = base64.b64encode(out.getvalue()).decode()
    return (
        "<!DOCTYPE html><html><body><main><p>behind</p></main>"
        "<div role='dialog' aria-label='Scan the QR Code'><h1>Scan the QR Code</h1>"
        f"<img alt='QR code' src='data:image/png;base64,{data}'>"
        f"<p>Key:</p><code>{printed}</code></div>"
        "<label>Password <input type='password' value='hunter2-canary'></label></body></html>"
    ).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = _page_html(OTHER_KEY if "wrong-key" in self.path else KEY)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tiny_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_qr_is_read_from_the_element_and_masked_in_kept_screenshots(
    chromium: ChromiumSession, tiny_site: str, tmp_path: Path
) -> None:
    kept: list[tuple[str, bytes]] = []
    driver = PortalDriver(
        chromium.page(),
        tiny_site,
        on_screenshot=lambda name, png: kept.append((name, png)),
        screenshot_dir=tmp_path,
    )
    driver.goto("/userconsole/mfa/totp/qr")
    assert decode_qr(driver._qr_element()) == URI
    assert [name for name, _ in kept] == ["01 QR code shown (masked in this screenshot)"]
    assert find_qr_texts(kept[0][1]) == [], "a kept screenshot still shows a readable QR code"
    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["01-qr-code-shown-masked-in-this-screenshot.png"]


def test_a_printed_key_that_is_not_the_qr_codes_key_fails_naming_fingerprints(
    chromium: ChromiumSession, tiny_site: str
) -> None:
    driver = PortalDriver(chromium.page(), tiny_site)
    driver.goto("/userconsole/mfa/totp/qr?wrong-key")
    with pytest.raises(PortalError) as failure:
        driver._qr_element()
    message = str(failure.value)
    qr_fp = Secret(b32decode(KEY)).fingerprint
    printed_fp = Secret(b32decode(OTHER_KEY)).fingerprint
    assert message == (
        f"the key printed beneath the QR code ({printed_fp}) is not the QR code's key ({qr_fp})"
    )
    assert KEY not in message
    assert OTHER_KEY not in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Copy this key:\nGEZD GNBV GY3T QOJQ\nDone", "GEZDGNBVGY3TQOJQ"),
        (f"{KEY}", KEY),
        ("no key here\nSHORT", None),
        ("lowercase gezdgnbvgy3tqojq", None),
    ],
)
def test_the_printed_key_is_read_from_the_dialogs_text(text: str, key: str | None) -> None:
    assert printed_key(text) == key


def test_key_check_leaves_a_qr_code_that_is_no_otpauth_uri_to_the_decode_step() -> None:
    check_printed_key("https://example.test/", KEY)  # no error: not a key to compare
    check_printed_key(URI, KEY)
    with pytest.raises(PortalError, match="not valid base32"):
        check_printed_key(URI, "GEZDGNBVGY3TQOJ1")


def test_unexpected_page_names_where_the_browser_is(
    chromium: ChromiumSession, tiny_site: str
) -> None:
    driver = PortalDriver(chromium.page(), tiny_site)
    driver.goto("/somewhere")
    with pytest.raises(
        PortalError,
        match=r"expected the set-password form, but the browser is "
        r"at /somewhere \('Scan the QR Code'\)",
    ):
        driver.activate(tiny_site + "/somewhere", SecretText("x"))


def test_each_page_starts_without_cookies(chromium: ChromiumSession, tiny_site: str) -> None:
    first = chromium.page()
    first.goto(tiny_site)
    first.context.add_cookies([{"name": "s", "value": "1", "url": tiny_site}])
    second = chromium.page()
    assert first.is_closed()
    assert second.context.cookies() == []


def test_missing_browser_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PortalError, match="not found: install Debian's chromium"):
        ChromiumSession(tmp_path / "no-chromium").start()
