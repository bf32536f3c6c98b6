"""Extract messages and merge them into translations/zh/LC_MESSAGES/messages.po (dev tool)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def main() -> None:
    """Run pybabel extract, then update (or init) the Chinese catalog."""
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    pot = ROOT / "translations" / "messages.pot"
    subprocess.run(
        [
            pybabel,
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "--no-location",
            "--sort-output",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    action = "update" if PO.exists() else "init"
    subprocess.run(
        [pybabel, action, "-i", str(pot), "-d", "translations", "-l", "zh", "--no-wrap"]
        + (["--ignore-obsolete"] if action == "update" else []),
        cwd=ROOT,
        check=True,
    )


if __name__ == "__main__":
    main()
