"""The absolute link of a page for documents' QR codes: PUBLIC_URL, else the request's own address."""


def absolute_link(path: str, public_url: str, host_url: str | None) -> str:
    """`path` on PUBLIC_URL when set, else on the request's host URL; the bare path with neither."""
    base = (public_url or host_url or "").rstrip("/")
    return f"{base}{path}"
