"""The Playwright driver on its own, against a tiny page on a loopback HTTP server: the QR
code is readable from the element screenshot, but masked in every screenshot kept for
reports; an unexpected page is reported with where the browser is."""

from __future__ import annotations

import base64
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno

from tokenrig.harness.enroll.qr import decode_qr, find_qr_texts
from tokenrig.harness.jumpcloud.portal_client import PortalError
from tokenrig.harness.jumpcloud.portal_driver import ChromiumSession, PortalDriver
from tokenrig.harness.secrets import SecretText

pytestmark = pytest.mark.browser

URI = "otpauth://totp/qa%40example.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def _page_html() -> bytes:
    out = io.BytesIO()
    segno.make(URI, error="m").save(out, kind="png", scale=6, border=4)
    data = base64.b64encode(out.getvalue()).decode()
    return (
        "<!DOCTYPE html><html><body><h1>Scan the QR Code</h1>"
        f"<img id='totp-qr' src='data:image/png;base64,{data}'>"
        "<code id='totp-key'>GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ</code>"
        "<input type='password' value='hunter2-canary'></body></html>"
    ).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = _page_html()
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
