"""Fill empty Chinese translations from `msgid<TAB>msgstr` lines files (dev tool)."""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def main(paths: list[str]) -> None:
    """Read the tab-separated files and fill the catalog's empty or fuzzy entries."""
    pairs = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if "\t" in line:
                msgid, msgstr = line.split("\t", 1)
                pairs[msgid] = msgstr
    with PO.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        known = message.id and isinstance(message.id, str) and message.id in pairs
        if known and (not message.string or message.fuzzy):
            message.string = pairs[message.id]
            message.flags.discard("fuzzy")
    with PO.open("wb") as f:
        write_po(f, catalog, width=0)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"untranslated: {len(missing)}")
    for m in missing:
        print(f"  {m!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
