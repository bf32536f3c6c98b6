"""The domain's words: kinds, sources, categories and statuses, with Chinese and English labels."""

KINDS = {
    "issue": ("问题", "Issue"),
    "illegal_building": ("违法建筑", "Illegal building"),
    "farmland": ("复耕地块", "Farmland restoration"),
}

SOURCES = {
    "patrol": ("巡查发现", "Found on patrol"),
    "superior": ("上级交办", "Assigned by superiors"),
    "public": ("群众举报", "Public report"),
    "hotline": ("12345热线", "12345 hotline"),
}

# Issue categories; the first six form the environment group (环保问题).
CATEGORIES = {
    "garbage": ("垃圾乱堆乱放", "Garbage dumping"),
    "sewage": ("污水直排", "Sewage discharge"),
    "straw_burning": ("秸秆焚烧", "Straw burning"),
    "dust": ("扬尘污染", "Dust pollution"),
    "livestock": ("畜禽养殖污染", "Livestock pollution"),
    "sand_mining": ("非法采砂", "Illegal sand mining"),
    "land_occupation": ("违法占地", "Illegal land occupation"),
    "fire_hazard": ("消防隐患", "Fire hazard"),
    "other": ("其他", "Other"),
}
CATEGORY_GROUPS = {
    "environment": (
        ("环保问题", "Environmental problems"),
        frozenset({"garbage", "sewage", "straw_burning", "dust", "livestock", "sand_mining"}),
    ),
}
ENVIRONMENT_CATEGORIES = CATEGORY_GROUPS["environment"][1]

STATUSES = ("reported", "assigned", "in_progress", "done", "verified", "void")

# Chinese labels differ by kind (待整改 / 待拆除 / 待复耕); English ones do not.
STATUS_LABELS_ZH = {
    "issue": ("待核实", "待整改", "整改中", "已整改", "已销号", "不属实"),
    "illegal_building": ("待核实", "待拆除", "拆除中", "已拆除", "已销号", "不属实"),
    "farmland": ("待核实", "待复耕", "复耕中", "已复耕", "已验收", "不属实"),
}
STATUS_LABELS_EN = ("Reported", "Assigned", "In progress", "Done", "Verified", "Void")

STATUS_GROUPS = {
    "open": frozenset({"reported", "assigned", "in_progress"}),
    "fixed": frozenset({"done", "verified"}),
    "closed": frozenset({"verified", "void"}),
}
# The four colours a map legend shows: each status falls in exactly one.
MAP_GROUPS = {
    "reported": "open",
    "assigned": "open",
    "in_progress": "open",
    "done": "done",
    "verified": "verified",
    "void": "void",
}

ROLES = {
    "grid_member": ("网格员", "Grid member"),
    "officer": ("执法队员", "Enforcement officer"),
    "supervisor": ("镇领导", "Supervisor"),
    "county": ("县级人员", "County staff"),
    "admin": ("管理员", "Administrator"),
}

LEVELS = {
    "county": ("县", "County"),
    "town": ("镇", "Town"),
    "village": ("村", "Village"),
    "group": ("组", "Group"),
}

STRUCTURES = {
    "brick_concrete": ("砖混", "Brick-concrete"),
    "steel": ("钢结构", "Steel"),
    "simple": ("简易棚房", "Simple shed"),
    "wood": ("木结构", "Timber"),
    "other": ("其他", "Other"),
}

M2_PER_MU = 10000 / 15


def label(table: dict, key: str, lang: str = "zh") -> str:
    """Return the Chinese or English label of a key in one of the tables above."""
    if key not in table:
        return key or ""
    zh, en = table[key]
    return en if lang == "en" else zh


def status_label(status: str, kind: str = "issue", lang: str = "zh") -> str:
    """Return the label of a status as the given kind of case names it."""
    if status not in STATUSES:
        return status or ""
    index = STATUSES.index(status)
    if lang == "en":
        return STATUS_LABELS_EN[index]
    return STATUS_LABELS_ZH.get(kind, STATUS_LABELS_ZH["issue"])[index]


def category_key(text: str) -> str | None:
    """Return the category key for a key or its Chinese/English name, or None."""
    text = (text or "").strip()
    if text in CATEGORIES:
        return text
    for key, names in CATEGORIES.items():
        if text in names:
            return key
    return None


def is_open(status: str) -> bool:
    """True while work remains on a case."""
    return status in STATUS_GROUPS["open"]
