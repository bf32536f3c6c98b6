"""Domain errors with a reason in Chinese and English; the web layer maps them to 4xx."""


class DomainError(Exception):
    """A refusal the user should read: code, Chinese and English reason, HTTP status."""

    status = 400

    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(message_zh)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def message(self, lang: str = "zh") -> str:
        """The reason in the given language."""
        return self.message_en if lang == "en" else self.message_zh


class InvalidInput(DomainError):
    """The request's content is wrong (422)."""

    status = 422


class NotAllowed(DomainError):
    """The user may not do this (403)."""

    status = 403


class Conflict(DomainError):
    """Someone else changed the record first (409)."""

    status = 409
