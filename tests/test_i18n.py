"""Every user-facing string in the code and templates has a Chinese translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [
    ("inspection/**.py", "python"),
    ("app.py", "python"),
    ("templates/**.html", "jinja2"),
]


def extracted_ids() -> set[str]:
    """Message ids as pybabel extract finds them (the same map as babel.cfg)."""
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords={"_": None, "_l": None, "gettext": None, "ngettext": (1, 2)}
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_babel_cfg_matches_the_test():
    cfg = (ROOT / "babel.cfg").read_text()

    assert all(f"[{method}: {pattern}]" in cfg for pattern, method in METHODS)


def test_every_message_has_a_chinese_translation():
    with (ROOT / "translations/zh/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}

    ids = extracted_ids()
    missing = sorted(ids - translated)

    assert {"Log in", "Cases by village and status"} <= ids

    assert missing == []
