"""Refusals of geographic input, each with a stable code and a bilingual reason; the web layer maps them to 4xx."""


class GeodataError(Exception):
    """Input a person can correct: `code` is a stable key, `message_zh` / `message_en` say why."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message_zh

    def message(self, lang: str = "zh") -> str:
        """The reason in the given language (as inspection's DomainError gives it)."""
        return self.message_en if lang == "en" else self.message_zh


class GeometryError(GeodataError):
    """The geometry is malformed, invalid or not allowed."""


class CRSError(GeodataError):
    """The coordinate reference system is missing, unknown or does not fit the coordinates."""


class FileFormatError(GeodataError):
    """An uploaded file is not what it claims to be, or cannot be read safely."""
