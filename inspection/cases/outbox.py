"""What a refused form tells the phone's outbox (static/js/offline.js): a code and a message header."""

from urllib.parse import quote


def refusal_headers(response, code: str, message: str):
    """Mark a refusal for the outbox: X-Report-Error (code), X-Report-Message (URL-quoted text)."""
    response.headers["X-Report-Error"] = code
    response.headers["X-Report-Message"] = quote(message)
    return response
