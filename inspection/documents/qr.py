"""A QR code of a link as PNG bytes (qrcode with Pillow)."""

from io import BytesIO

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def qr_png(text: str, *, box_px: int = 8, border_boxes: int = 4) -> bytes:
    """The QR code of `text` (a URL) as PNG bytes, error correction M, `box_px` pixels a module."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_px, border=border_boxes)
    code.add_data(text)
    code.make(fit=True)
    buffer = BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()
