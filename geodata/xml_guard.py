"""Check XML files (KML, GPX) with defusedxml before any reader sees them.

No DOCTYPE, no entities (external or internal, so no XXE and no entity expansion), the root element
the format requires, and nothing that makes a reader fetch another document (a KML NetworkLink,
a style kept in another file).
"""

import xml.etree.ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET

from geodata.errors import FileFormatError
from geodata.sniff import has_xml_declarations

# Elements that name another document for a reader to fetch.
_FETCHING_ELEMENTS = {"NetworkLink", "NetworkLinkControl", "Link"}


def _local(tag: str) -> str:
    """The element name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def parse(data: bytes, root: str, label: str) -> ET.Element:
    """Parse XML text safely and return its root, refusing DTDs, entities and another root than `root`."""
    refusal = FileFormatError(
        f"{root}_doctype",
        f"{root.upper()} 文件含有 DOCTYPE 或 ENTITY 声明，出于安全原因拒绝读取：{label}",
        f"{label} declares a DOCTYPE or ENTITY; such files are refused for safety.",
    )
    if has_xml_declarations(data):
        raise refusal
    try:
        element = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise refusal from exc
    except ET.ParseError as exc:
        raise FileFormatError(
            "xml_malformed",
            f"XML 格式有误（{exc}），请检查文件是否完整：{label}",
            f"{label} is not well-formed XML ({exc}).",
        ) from exc
    if _local(element.tag) != root:
        raise FileFormatError(
            "xml_wrong_root",
            f"文件不是 {root.upper()}：根元素是“{_local(element.tag)[:40]}”，拒绝读取：{label}",
            f"{label} is not {root.upper()}: its root element is {_local(element.tag)[:40]!r}.",
        )
    return element


def check_kml(data: bytes, label: str) -> None:
    """Refuse KML that is unsafe XML, is not KML, or names other documents (NetworkLink, styles)."""
    root = parse(data, "kml", label)
    for element in root.iter():
        name = _local(element.tag)
        if name in _FETCHING_ELEMENTS:
            raise FileFormatError(
                "kml_network_link",
                f"KML 含有网络链接（{name}），出于安全原因拒绝读取；请导出为不含链接的 KML：{label}",
                f"{label} holds a {name}, which would fetch another document; refused.",
            )
        if name == "styleUrl" and not (element.text or "").strip().startswith("#"):
            raise FileFormatError(
                "kml_external_style",
                f"KML 引用了外部样式文件，出于安全原因拒绝读取：{label}",
                f"{label} refers to a style in another document; refused.",
            )
