"""Guess the text encoding of a shapefile's .dbf when no .cpg names it: UTF-8, else GBK, else GDAL's."""

import re
from pathlib import Path

# Latin-1 text (Danish "Græs", German "Förder") often decodes as GBK without error, pairing an
# accented letter with the ASCII letter after it. Chinese text from surveyors is almost all in
# GB2312, the part of GBK whose both bytes are >= 0xA1; require most characters to be there.
_MIN_GB2312_SHARE = 0.9
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def guess_dbf_encoding(dbf_path: Path) -> str | None:
    """Return "UTF-8" or "GBK" when the records decode strictly and plausibly so, else None."""
    records = _record_bytes(dbf_path)
    if records is None:
        return None
    try:
        records.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text = records.decode("gbk")
    except UnicodeDecodeError:
        return None
    wide = _NON_ASCII.findall(text)
    in_gb2312 = sum(1 for char in wide if _encodes(char, "gb2312"))
    return "GBK" if in_gb2312 >= _MIN_GB2312_SHARE * len(wide) else None


def _record_bytes(dbf_path: Path) -> bytes | None:
    """Return the field names and records of a dBASE file as bytes, or None when it is too short."""
    data = dbf_path.read_bytes()
    if len(data) < 32:
        return None
    record_count = int.from_bytes(data[4:8], "little")
    header_bytes = int.from_bytes(data[8:10], "little")
    record_bytes = int.from_bytes(data[10:12], "little")
    # Field descriptors are 32 bytes each, name in the first 11 (NUL-padded), until 0x0D.
    names = [
        data[offset : offset + 11].split(b"\x00")[0]
        for offset in range(32, min(header_bytes, len(data)) - 31, 32)
        if data[offset] != 0x0D
    ]
    return b" ".join(names) + b" " + data[header_bytes : header_bytes + record_count * record_bytes]


def _encodes(char: str, encoding: str) -> bool:
    """Say whether one character exists in an encoding."""
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
