"""What a refused form tells the phone's outbox (static/js/offline.js): a code and a message header."""

from urllib.parse import quote


def refusal_headers(response, code: str, message: str):
    """Mark a refusal for the outbox: X-Report-Error (code), X-Report-Message (URL-quoted text)."""
    response.headers["X-Report-Error"] = code
    response.headers["X-Report-Message"] = quote(message)
    return response


def form_page(html: str, status: int, code: str = "", message: str | None = None):
    """A form page's response; a refusal (`message`) carries the outbox's headers."""
    from flask import current_app

    response = current_app.make_response((html, status))
    return refusal_headers(response, code, message) if message else response
