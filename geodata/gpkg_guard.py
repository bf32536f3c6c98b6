"""Treat an uploaded GeoPackage as hostile SQLite: inspect it read-only before GDAL opens it.

The check runs on our own temporary copy, opened immutable and read-only, with SQLite's schema
untrusted. It refuses virtual tables other than the R*Tree spatial index (a VirtualOGR table
reads other files), and returns the feature tables that really are tables: views, which could
reach other tables or functions, are never read.
"""

import sqlite3
from pathlib import Path

from geodata.errors import FileFormatError


def _refuse(code: str, zh: str, en: str, label: str) -> FileFormatError:
    return FileFormatError(code, f"{zh}：{label}", f"{en}: {label}")


def feature_tables(path: Path, label: str) -> list[str]:
    """The names of the GeoPackage's feature tables that are plain tables (not views), in order."""
    uri = f"file:{path.as_posix()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise _refuse("gpkg_unreadable", "GeoPackage 无法打开", "Cannot open the GeoPackage", label) from exc
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        contents = conn.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'"
        ).fetchall()
    except sqlite3.Error as exc:
        raise _refuse(
            "gpkg_unreadable",
            "GeoPackage 已损坏或缺少 gpkg_contents 表",
            "The GeoPackage is broken or has no gpkg_contents table",
            label,
        ) from exc
    finally:
        conn.close()
    for kind, name, sql in schema:
        text = " ".join((sql or "").split()).upper()
        if kind == "table" and text.startswith("CREATE VIRTUAL TABLE") and "USING RTREE" not in text:
            raise _refuse(
                "gpkg_virtual_table",
                f"GeoPackage 含有虚拟表（{name}），出于安全原因拒绝读取",
                f"The GeoPackage holds a virtual table ({name}); refused for safety",
                label,
            )
    tables = {name for kind, name, _ in schema if kind == "table"}
    features = [str(name) for (name,) in contents if name in tables]
    if contents and not features:
        raise _refuse(
            "gpkg_views_only",
            "GeoPackage 的图层都是视图（VIEW），出于安全原因只读取数据表；请导出为普通图层",
            "Every layer of the GeoPackage is a view; only feature tables are read",
            label,
        )
    return features
