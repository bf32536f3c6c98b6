"""Which installed font (matplotlib's font list) can draw Chinese in a picture, if any.

Pictures draw Chinese text only with such a font; without one they carry no Chinese (never tofu
boxes), and the document around them says it in its caption and legend.
"""

from functools import cache

# Families that hold the CJK Unified Ideographs, the usual ones first (Linux, then Windows / macOS).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Microsoft YaHei",
    "SimHei",
    "SimSun",
    "PingFang SC",
    "Heiti SC",
)


@cache
def cjk_font_family() -> str | None:
    """The first installed family of CJK_FAMILIES that matplotlib knows, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in installed), None)


def has_cjk_font() -> bool:
    """True if pictures may carry Chinese text."""
    return cjk_font_family() is not None


def text_properties() -> dict:
    """Keyword arguments for matplotlib text: the CJK family when there is one, else nothing."""
    family = cjk_font_family()
    return {"fontfamily": family} if family else {}
