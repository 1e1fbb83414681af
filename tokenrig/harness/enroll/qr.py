"""Reading the QR code a portal shows, from a screenshot, the way a phone camera would.

The browser path screenshots the QR element and decodes it here with zxing-cpp, so the test
reads the key exactly as a user's scanner does (a QR the page renders wrongly fails here),
instead of fishing the key out of the page's HTML.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError


class QrDecodeError(ValueError):
    """No (single) QR code could be read from the image; the message says what was seen."""


def decode_qr(png: bytes, *, what: str = "screenshot") -> str:
    """The text of the one QR code in ``png``; raises :class:`QrDecodeError` otherwise."""
    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise QrDecodeError(f"{what}: not a readable image ({exc})") from None
    found = [
        code
        for code in zxingcpp.read_barcodes(image)
        if code.valid and code.format == zxingcpp.BarcodeFormat.QRCode
    ]
    if not found:
        raise QrDecodeError(f"{what}: no QR code found in the {image.width}x{image.height} image")
    texts = {code.text for code in found}
    if len(texts) > 1:
        raise QrDecodeError(f"{what}: {len(texts)} different QR codes in one image")
    return str(found[0].text)


def find_qr_texts(png: bytes) -> list[str]:
    """Every QR code's text in ``png`` (empty when none or not an image); for audits."""
    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except (UnidentifiedImageError, OSError):
        return []
    return [str(code.text) for code in zxingcpp.read_barcodes(image) if code.valid]
