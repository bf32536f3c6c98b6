"""The README documents every setting and every status."""

from pathlib import Path

from inspection.settings import SETTINGS
from inspection.vocab import STATUS_LABELS_ZH, STATUSES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_opens_with_the_two_commands():
    block = README.split("```")[1]

    assert "make run" in block and "make test" in block


def test_every_setting_is_documented():
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in README]

    assert missing == []


def test_every_status_and_label_is_documented():
    missing = [s for s in STATUSES if f"`{s}`" not in README]
    labels = {label for labels in STATUS_LABELS_ZH.values() for label in labels}

    assert missing == []
    assert [label for label in labels if label not in README] == []
