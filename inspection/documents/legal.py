"""The legal basis a 整改通知书 cites, by case kind and issue category.

Articles of the laws a township works with, as in force in 2024: 《中华人民共和国土地管理法》 (2019
修正), 《中华人民共和国城乡规划法》 (2019 修正), 《中华人民共和国环境保护法》 (2014 修订), 《中华人民共和国
固体废物污染环境防治法》 (2020 修订), 《中华人民共和国大气污染防治法》 (2018 修正).
TO CHECK BY THE TOWN: the articles and their wording are a starting point written by developers, not
legal advice; the town's legal adviser (司法所) should confirm them, and add local regulations
(地方性法规, e.g. the province's 农村村民住宅建设管理条例) before notices are served.
"""

LAND = "《中华人民共和国土地管理法》"
PLANNING = "《中华人民共和国城乡规划法》"
ENVIRONMENT = "《中华人民共和国环境保护法》"
SOLID_WASTE = "《中华人民共和国固体废物污染环境防治法》"
AIR = "《中华人民共和国大气污染防治法》"
FALLBACK = ("有关法律、法规的规定（由镇人民政府核定）",)

# Each entry: the provisions cited, each "law + article (what it says, briefly)".
BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "garbage": (
        f"{SOLID_WASTE}第二十条（不得擅自倾倒、堆放、丢弃、遗撒固体废物）",
        f"{SOLID_WASTE}第一百一十一条（随意倾倒、抛撒、堆放生活垃圾的法律责任）",
    ),
    "sewage": (
        f"{ENVIRONMENT}第四十二条（排放污染物者应当采取措施防治污染，严禁以逃避监管的方式违法排放）",
    ),
    "straw_burning": (
        f"{AIR}第七十七条（禁止在人口集中地区和其他依法需要特殊保护的区域内露天焚烧秸秆、落叶等）",
        f"{AIR}第一百一十九条（露天焚烧秸秆、落叶等的法律责任）",
    ),
    "dust": (
        f"{AIR}第六十九条（建设单位、施工单位应当采取有效防尘降尘措施）",
        f"{AIR}第七十条（运输渣土、砂石等散装、流体物料应当采取密闭或者其他措施）",
        f"{AIR}第一百一十五条（施工工地未采取防尘降尘措施的法律责任）",
    ),
    "livestock": (
        f"{ENVIRONMENT}第四十九条（畜禽养殖应当对畜禽粪便、尸体和污水等废弃物进行科学处置，防止污染环境）",
    ),
    "sand_mining": (
        f"{LAND}第三十七条（禁止擅自在耕地上挖砂、采石、采矿、取土等）",
        f"{LAND}第七十五条（占用耕地挖砂、采石、采矿、取土等，破坏种植条件的法律责任）",
    ),
    "land_occupation": (
        f"{LAND}第四十四条（建设占用土地，涉及农用地转为建设用地的，应当办理农用地转用审批手续）",
        f"{LAND}第七十七条（未经批准非法占用土地的，责令退还非法占用的土地，限期拆除）",
    ),
}
BY_KIND: dict[str, tuple[str, ...]] = {
    "illegal_building": (
        f"{PLANNING}第四十一条（在乡、村庄规划区内进行建设，应当取得乡村建设规划许可证）",
        f"{PLANNING}第六十五条（未依法取得乡村建设规划许可证进行建设的，由乡、镇人民政府责令停止建设、"
        "限期改正；逾期不改正的，可以拆除）",
        f"{LAND}第七十八条（农村村民未经批准非法占用土地建住宅的，责令退还，限期拆除）",
    ),
    "farmland": (
        f"{LAND}第三十条（国家保护耕地，严格控制耕地转为非耕地）",
        f"{LAND}第三十七条（禁止占用耕地建窑、建坟或者擅自在耕地上建房、挖砂、采石、采矿、取土等）",
        f"{LAND}第七十五条（破坏种植条件的，责令限期改正或者治理，恢复种植条件）",
    ),
}


def legal_basis(kind: str, category: str | None) -> tuple[str, ...]:
    """The provisions a notice cites for a case of this kind (and issue category)."""
    if kind in BY_KIND:
        return BY_KIND[kind]
    return BY_CATEGORY.get(category or "", FALLBACK)


def laws_cited(kind: str, category: str | None) -> list[str]:
    """The names of the laws cited (《…》), each once, in the order first cited."""
    names: list[str] = []
    for provision in legal_basis(kind, category):
        name = provision[: provision.index("》") + 1] if "》" in provision else ""
        if name and name not in names:
            names.append(name)
    return names
