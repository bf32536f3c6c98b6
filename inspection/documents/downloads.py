"""A Flask response that downloads a .docx under a Chinese file name (RFC 5987 `filename*`)."""

import re
from urllib.parse import quote

from flask import Response

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def ascii_filename(name: str, fallback: str = "document.docx") -> str:
    """The name itself if it is plain ASCII (letters, digits, '.', '-', '_'), else `fallback`."""
    return name if re.fullmatch(r"[A-Za-z0-9._-]+", name) and not name.startswith(".") else fallback


def content_disposition(name: str, fallback: str = "document.docx") -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''%E2…`: old clients get the ASCII name."""
    return (
        f"attachment; filename=\"{ascii_filename(name, fallback)}\"; filename*=UTF-8''{quote(name)}"
    )


def docx_response(data: bytes, filename: str, *, fallback: str = "document.docx") -> Response:
    """A download of .docx bytes named `filename` (Chinese allowed), not cached by proxies."""
    return Response(
        data,
        mimetype=DOCX_MIMETYPE,
        headers={
            "Content-Disposition": content_disposition(filename, fallback),
            "Cache-Control": "private, no-store",
        },
    )
