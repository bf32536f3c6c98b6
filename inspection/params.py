"""Numbers from the URL: bounded so that a huge value answers 400 (or 404 in a path), never a 500."""

from flask import render_template
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# The largest id a database column holds: INTEGER on PostgreSQL (SQLite's reach 2**63 - 1, but one
# bound for both backends keeps a larger number from reaching PostgreSQL and failing there).
MAX_INT = 2**31 - 1
# Pages and offsets beyond a billion are no listing anyone scrolls to.
MAX_PAGE = 10**9


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` path parts up to MAX_INT; a longer number does not match the route (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


class BadParameter(BadRequest):
    """A query parameter that is not a number in range (400), with a bilingual reason."""

    def __init__(self, name: str, low: int, high: int):
        self.message_zh = f"参数 {name} 须为 {low} 到 {high:,} 之间的整数"
        self.message_en = f"{name} must be an integer from {low} to {high:,}"
        super().__init__(f"{self.message_zh} / {self.message_en}")

    def message(self, lang: str = "zh") -> str:
        """The reason in the given language."""
        return self.message_en if lang == "en" else self.message_zh


def query_int(args, name: str, default: int | None, low: int, high: int) -> int | None:
    """The integer parameter `name` of `args`, `default` when absent; 400 if not in [low, high]."""
    text = (args.get(name) or "").strip()
    if not text:
        return default
    if not (text.lstrip("-").isdigit() and len(text) <= 20 and low <= int(text) <= high):
        raise BadParameter(name, low, high)
    return int(text)


def form_number(value) -> int | None:
    """A record's number as a form gives it ("12" or "#12"), or None if it is none (1..MAX_INT)."""
    text = str(value if value is not None else "").strip().lstrip("#")
    if not (text.isdigit() and text.isascii() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number <= MAX_INT else None


def init_app(app) -> None:
    """Bound every `<int:…>` in the app's routes, and answer a bad parameter with the 4xx page."""
    app.url_map.converters["int"] = BoundedIntConverter

    @app.errorhandler(BadParameter)
    def _bad_parameter(exc: BadParameter):
        return render_template("errors/4xx.html", error=exc), 400
