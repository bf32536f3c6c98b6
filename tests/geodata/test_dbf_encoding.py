"""Guessing the encoding of a .dbf that has no .cpg."""

import pytest

from geodata.dbf_encoding import guess_dbf_encoding


def dbf_bytes(values: list[bytes], field_name: bytes = b"NAME") -> bytes:
    """Return a minimal dBASE III file with one character field holding `values`."""
    width = max(len(v) for v in values)
    header_bytes = 32 + 32 + 1
    record_bytes = 1 + width
    header = (
        bytes([3, 124, 1, 1])
        + len(values).to_bytes(4, "little")
        + header_bytes.to_bytes(2, "little")
        + record_bytes.to_bytes(2, "little")
        + bytes(20)
    )
    field = field_name.ljust(11, b"\x00") + b"C" + bytes(4) + bytes([width, 0]) + bytes(14)
    records = b"".join(b" " + v.ljust(width, b" ") for v in values)
    return header + field + b"\x0d" + records + b"\x1a"


@pytest.mark.parametrize(
    ("values", "field_name", "expected"),
    [
        (["平岗村一组", "石桥村"], "NAME", "UTF-8"),
        (["code", "42011610120101"], "NAME", "UTF-8"),
        (["平岗村一组", "石桥村二组"], "NAME", "GBK"),
        (["42011610120101"], "名称", "GBK"),
        (["Græs og kløvergræs", "Brak, slåning"], "NAME", None),  # Latin-1 that GBK would accept
        (["Förderfähig", "Begrünung"], "NAME", None),
    ],
)
def test_guess_dbf_encoding(tmp_path, values, field_name, expected):
    encoding = "utf-8" if expected == "UTF-8" else "gbk" if expected == "GBK" else "latin-1"
    encoded = [v.encode(encoding) for v in values]
    if expected is None:
        " ".join(values).encode("latin-1").decode("gbk")  # would pass a bare GBK decode
    path = tmp_path / "cells.dbf"
    path.write_bytes(dbf_bytes(encoded, field_name.encode(encoding)))

    assert guess_dbf_encoding(path) == expected


def test_too_short_file_gives_no_guess(tmp_path):
    path = tmp_path / "cells.dbf"
    path.write_bytes(b"\x03\x7c")

    assert guess_dbf_encoding(path) is None
