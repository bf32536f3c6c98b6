"""The demo's case scripts: 2022 as the work summary tells it, and live work in the current year."""

from dataclasses import dataclass, field
from datetime import date

# Steps are "status when; …". `when` is MM-DD (in the year found), YYYY-MM-DD, or, for the
# current year, a day offset from today such as -12. "returned" is done → in_progress (退回).
# Sizes: illegal buildings in m² (footprint), farmland in 亩. "{place}" in a title becomes the
# village and group (石桥村三组); "{year}" in a field becomes the year found.


@dataclass(frozen=True)
class Spec:
    """One scripted case: what it is, when it was found, and how its status moved."""

    kind: str
    title: str
    found: str | int
    steps: str = ""
    source: str = "patrol"
    category: str | None = None
    size: float | None = None
    deadline: str | int | None = None
    notes: dict = field(default_factory=dict)  # step name → note, overriding the default note
    fields: dict = field(default_factory=dict)


def issue(title, found, steps="", source="patrol", category=None, **kw) -> Spec:
    """An issue script."""
    return Spec("issue", title, found, steps, source, category, **kw)


def building(title, found, steps, source, size_m2, **kw) -> Spec:
    """An illegal-building script; `size_m2` is the footprint."""
    return Spec("illegal_building", title, found, steps, source, size=size_m2, **kw)


def parcel(title, found, steps, source, size_mu, **kw) -> Spec:
    """A farmland-restoration script; `size_mu` is the parcel's area in 亩."""
    return Spec("farmland", title, found, steps, source, size=size_mu, **kw)


def about(description: str, measures: str | None = None, **more) -> dict:
    """Case fields: a description, the measures taken (整改措施) and any others."""
    return {"description": description, "measures": measures, **more}


def owner(party, structure, floors, land_type, description="") -> dict:
    """Illegal-building fields: 当事人, 结构, 层数, 土地性质."""
    return {
        "party": party,
        "structure": structure,
        "floors": floors,
        "land_type": land_type,
        "description": description,
    }


def land(land_type, crop, parcel_no, **more) -> dict:
    """Farmland fields: 原地类/问题类型, 复耕作物, 图斑编号."""
    return {"land_type": land_type, "crop": crop, "parcel_no": parcel_no, **more}


ENV_1 = {"doc_number": "县环委办〔2022〕15号", "batch": "2022年第一批环保问题交办"}
ENV_2 = {"doc_number": "县环委办〔2022〕32号", "batch": "2022年第二批环保问题交办"}
ENV_3 = {"doc_number": "县环委办〔2022〕47号", "batch": "2022年第三批环保问题交办"}
ENV_4 = {"doc_number": "县环委办〔2022〕58号", "batch": "2022年第四批环保问题交办"}
SAFETY = {"doc_number": "县安委办〔2022〕11号", "batch": "2022年安全生产督查"}
FULL = "assigned {}; in_progress {}; done {}; verified {}"

# fmt: off
ISSUES_2022 = (
    # 上级交办: five reach done in 2022 (整改完成上级反馈问题5个), one is void, one done in 2023.
    issue("{place}沿河垃圾堆放", "2022-03-08", FULL.format("03-09", "03-12", "03-30", "04-15"),
          "superior", "garbage", deadline="2022-04-08",
          fields=about("县督查发现沿河堆放生活垃圾约5吨。", "清运垃圾5吨，设置禁倒警示牌", **ENV_1)),
    issue("{place}养殖场粪污直排", "2022-03-08", FULL.format("03-09", "03-15", "05-20", "06-10"),
          "superior", "livestock", deadline="2022-05-31",
          fields=about("生猪养殖场粪污未经处理直排沟渠。", "建干湿分离和沼液池，粪污还田", **ENV_1)),
    issue("{place}砂石堆场扬尘未覆盖", "2022-06-14", FULL.format("06-15", "06-18", "07-05", "07-20"),
          "superior", "dust", deadline="2022-07-15",
          fields=about("砂石堆场未覆盖防尘网，道路扬尘大。", "全覆盖防尘网，出口设洗车平台", **ENV_2)),
    issue("{place}液化气瓶违规存放", "2022-07-22", FULL.format("07-23", "07-25", "08-12", "08-30"),
          "superior", "fire_hazard", deadline="2022-08-20",
          fields=about("小卖部后院存放液化气瓶12个，无防护。", "气瓶移交有资质企业回收", **SAFETY)),
    issue("{place}生活污水直排入渠", "2022-09-20",
          FULL.format("09-21", "09-26", "11-15", "2023-01-10"), "superior", "sewage",
          deadline="2022-11-30",
          fields=about("集中居住点生活污水直排灌溉渠。", "铺设管网接入村污水处理站", **ENV_3)),
    issue("{place}河道非法采砂", "2022-09-20", "void 09-28", "superior", "sand_mining",
          deadline="2022-10-31", notes={"void": "经核实为水利部门河道疏浚工程，手续齐全，不属实"},
          fields=about("反映河道内有采砂船作业。", **ENV_3)),
    issue("{place}秸秆露天焚烧", "2022-11-28",
          FULL.format("11-29", "12-05", "2023-01-12", "2023-02-20"), "superior", "straw_burning",
          deadline="2023-01-15",
          fields=about("卫星火点监测发现田间焚烧秸秆。", "清理过火田块，秸秆打捆离田", **ENV_4)),
    # 巡查发现环保问题4个，整改完成4个: the only patrol environment issues found in 2022.
    issue("{place}河边垃圾乱堆", "2022-04-06", FULL.format("04-07", "04-08", "04-13", "04-25"),
          category="garbage", fields=about("网格员巡查发现河边堆放生活垃圾和建筑垃圾。",
                                           "组织清运，设置垃圾收集点")),
    issue("{place}污水直排入渠", "2022-05-18", FULL.format("05-19", "05-25", "06-16", "07-02"),
          category="sewage", fields=about("农家乐厨房污水直排入渠。", "安装隔油池，污水接入化粪池")),
    issue("{place}田间焚烧秸秆", "2022-06-02", FULL.format("06-02", "06-02", "06-03", "06-10"),
          category="straw_burning",
          fields=about("巡查发现田间焚烧油菜秸秆。", "现场扑灭，约谈农户，开展禁烧宣传")),
    issue("{place}养猪场粪污外溢", "2022-08-10", FULL.format("08-11", "08-20", "10-18", "11-05"),
          category="livestock", deadline="2022-10-31",
          fields=about("养猪场粪污外溢，异味扰民。", "扩建储粪池，配套消纳土地")),
    # Other 2022 issues: patrol finds outside the environment group, public reports, the hotline.
    issue("{place}电动车飞线充电", "2022-03-22", FULL.format("03-23", "03-23", "03-25", "04-02"),
          category="fire_hazard",
          fields=about("自建房楼道私拉电线给电动车充电。", "拆除飞线，安装集中充电桩")),
    issue("{place}占用耕地硬化晒场", "2022-10-11",
          FULL.format("10-13", "11-02", "2023-03-15", "2023-04-02"), category="land_occupation",
          deadline="2023-03-31",
          fields=about("村民占用耕地约200㎡浇筑水泥晒场。", "破除硬化层，恢复耕作层")),
    issue("{place}废弃鱼塘护栏缺失", "2022-12-05", "assigned 12-06; in_progress 12-10; done 12-20",
          category="other", fields=about("路边废弃鱼塘无护栏，存在溺水隐患。", "加装护栏和警示牌")),
    issue("{place}工地夜间施工扬尘", "2022-05-09", FULL.format("05-10", "05-12", "05-16", "05-30"),
          "hotline", "dust",
          fields=about("12345热线反映工地夜间施工扬尘、噪声扰民。", "围挡喷淋，禁止夜间施工")),
    issue("{place}路边建筑垃圾倾倒", "2022-07-11", "void 07-13", "public", "garbage",
          notes={"void": "现场核实为农户临时堆放的农家肥，已自行清运，不属实"},
          fields=about("群众反映路边倾倒建筑垃圾。")),
    issue("{place}餐馆油污排入雨水沟", "2022-08-23", FULL.format("08-24", "08-29", "09-10", "09-25"),
          "hotline", "sewage",
          fields=about("12345热线反映餐馆油污排入雨水沟。", "安装隔油设施，清掏雨水沟")),
    issue("{place}散养家禽污染水塘", "2022-10-30", "void 11-02", "public", "livestock",
          notes={"void": "养殖户已于2021年退养，现场无养殖，不属实"},
          fields=about("群众反映有人散养鸡鸭污染水塘。")),
)

BUILDINGS_2022 = (
    # 依法拆除违法建筑2处约380m²: 236 m² + 144 m² reach done in 2022.
    building("{place}占用耕地建房", "2022-03-15", FULL.format("03-16", "04-20", "05-10", "05-25"),
             "patrol", 236.0, deadline="2022-05-15",
             fields=owner("王建军", "brick_concrete", 1, "一般耕地", "未经批准占用耕地建设砖混平房。")),
    building("{place}基本农田内搭建钢棚", "2022-08-02",
             FULL.format("08-03", "09-05", "09-28", "10-20"), "public", 144.0, deadline="2022-09-30",
             fields=owner("李春华", "steel", 1, "永久基本农田", "群众举报在基本农田内搭建钢结构仓库。")),
    building("{place}违规加层建设", "2022-10-12", "assigned 10-14; in_progress 11-20", "patrol",
             210.0, deadline="2022-12-31",
             notes={"in_progress": "已停工并拆除部分，当事人申请行政复议，待复议结果"},
             fields=owner("周德明", "brick_concrete", 2, "宅基地", "超出批准面积加建两层。")),
    building("{place}河边简易棚房", "2022-06-20", "void 06-24", "hotline", 95.0,
             notes={"void": "经核实为2008年建成的合法附属用房，不属实"},
             fields=owner("吴水生", "simple", 1, "集体建设用地", "热线反映河边新建棚房。")),
    building("{place}林地违建养殖棚", "2022-11-08",
             FULL.format("11-10", "12-20", "2023-02-16", "2023-03-01"), "patrol", 168.0,
             fields=owner("郑立新", "steel", 1, "林地", "未经批准在林地内搭建钢结构养殖棚。")),
)

FARMLAND_2022 = (
    # 复耕面积约120余亩: 32.5 + 24.8 + 18.6 + 21.3 + 12.4 + 11.0 = 120.6 亩 reach done in 2022.
    parcel("{place}撂荒地复耕", "2022-02-20", FULL.format("02-22", "03-01", "04-25", "05-12"),
           "patrol", 32.5, fields=land("撂荒地", "水稻", "PG2022-001")),
    parcel("{place}违规挖塘恢复耕地", "2022-03-10", FULL.format("03-12", "03-20", "06-08", "07-01"),
           "patrol", 24.8, fields=land("违规挖塘养鱼", "水稻", "PG2022-004")),
    parcel("{place}撂荒地复耕", "2022-08-15", FULL.format("08-16", "09-01", "10-20", "11-10"),
           "patrol", 18.6, fields=land("撂荒地", "油菜", "PG2022-009")),
    parcel("{place}耕地种树整改", "2022-09-01", FULL.format("09-03", "09-15", "11-25", "12-20"),
           "public", 21.3, fields=land("耕地种植苗木", "油菜", "PG2022-011")),
    parcel("{place}撂荒地复耕", "2022-09-20", FULL.format("09-21", "10-08", "11-30", "2023-03-10"),
           "patrol", 12.4, fields=land("撂荒地", "小麦", "PG2022-013")),
    parcel("{place}建筑垃圾清理复耕", "2022-10-08",
           FULL.format("10-09", "10-20", "12-15", "2023-03-10"), "patrol", 11.0,
           fields=land("堆放建筑垃圾", "玉米", "PG2022-015")),
    parcel("{place}设施农用地核查", "2022-05-06", "void 05-10", "patrol", 8.5,
           notes={"void": "经核实为已备案的设施农用地，不属实"},
           fields=land("疑似非农建设", None, "PG2022-006")),
    parcel("{place}卫片图斑复耕", "2022-11-16",
           FULL.format("11-18", "12-01", "2023-04-18", "2023-05-20"), "superior", 26.0,
           deadline="2023-04-30",
           fields=land("耕地种植苗木", "水稻", "WP2022-0317", doc_number="县自然资源局〔2022〕66号",
                       batch="2022年度卫片执法")),
)

CURRENT = (
    # Live work in today's year: offsets in days from today; some overdue, some near the deadline.
    issue("{place}路边垃圾乱堆", -2, category="garbage", fields=about("巡查发现村道边堆放生活垃圾。")),
    issue("{place}污水直排入塘", -20, "assigned -19", category="sewage", deadline=-5,
          fields=about("养殖户冲洗污水直排入塘。")),
    issue("{place}搅拌站扬尘", -40, "assigned -39; in_progress -30", "superior", "dust", deadline=3,
          fields=about("搅拌站料场未封闭，扬尘污染。", doc_number="县环委办〔{year}〕9号",
                       batch="{year}年第三批环保问题交办")),
    issue("{place}厂房消防通道堵塞", -25, "assigned -24; in_progress -20", "hotline", "fire_hazard",
          deadline=-3, fields=about("12345热线反映厂房消防通道堆放杂物。")),
    issue("{place}建筑垃圾乱倒", -6, "assigned -5", "public", "garbage", deadline=10,
          fields=about("群众反映夜间有车辆倾倒建筑垃圾。")),
    issue("{place}养鸭场污水外排", -30, "assigned -29; in_progress -25; done -4", category="livestock",
          deadline=-6, fields=about("养鸭场污水外排入沟。", "建设污水收集池，定期清运")),
    issue("{place}田间焚烧秸秆", -35, "assigned -34; in_progress -33; done -20; returned -15",
          category="straw_burning", deadline=2,
          notes={"returned": "复核未通过：焚烧点仍有余烬，周边秸秆未清理"},
          fields=about("巡查发现田间焚烧秸秆。")),
    issue("{place}沿街乱搭雨棚", -60, FULL.format(-58, -50, -45, -40), category="other",
          fields=about("沿街商户违规搭建雨棚。", "拆除雨棚")),
    issue("{place}渠道污水异味", -12, "void -10", "public", "sewage",
          notes={"void": "现场核实为雨后淤泥异味，无排污口，不属实"}),
    building("{place}新搭简易棚房", -3, "", "patrol", 120.0,
             fields=owner("许家富", "simple", 1, "一般耕地")),
    building("{place}未批先建厂房", -30, "assigned -28", "public", 286.0, deadline=-2,
             fields=owner("彭光明", "steel", 1, "集体建设用地")),
    building("{place}违建车库", -50, "assigned -48; in_progress -10", "patrol", 88.0, deadline=4,
             fields=owner("曾玉珍", "brick_concrete", 1, "宅基地")),
    building("{place}占地违建仓库", -70, "assigned -68; in_progress -30; done -8", "patrol", 192.0,
             fields=owner("彭水生", "wood", 1, "一般耕地")),
    parcel("{place}撂荒地核查", -5, "", "patrol", 9.2, fields=land("撂荒地", None, "PG{year}-021")),
    parcel("{place}撂荒地复耕", -45, "assigned -44", "patrol", 15.6, deadline=20,
           fields=land("撂荒地", "油菜", "PG{year}-014")),
    parcel("{place}违规挖塘恢复耕地", -90, "assigned -88; in_progress -30", "patrol", 22.4,
           deadline=-6, fields=land("违规挖塘养鱼", "水稻", "PG{year}-006")),
    parcel("{place}耕地种树整改", -120, "assigned -118; in_progress -80; done -12", "patrol", 6.3,
           fields=land("耕地种植苗木", "小麦", "PG{year}-002")),
)
# fmt: on

ALL_SPECS = ISSUES_2022 + BUILDINGS_2022 + FARMLAND_2022 + CURRENT


# Notes written with each step unless the script gives its own.
NOTES = {
    "issue": {
        "assigned": "已交办网格员，限期整改",
        "in_progress": "已开始整改",
        "done": "整改完毕，申请复核",
        "verified": "复核通过，予以销号",
    },
    "illegal_building": {
        "assigned": "下达《责令限期拆除决定书》",
        "in_progress": "组织实施拆除",
        "done": "已拆除到位，现场清理完毕",
        "verified": "复核通过，予以销号",
    },
    "farmland": {
        "assigned": "交办村组限期复耕",
        "in_progress": "清除地表附着物，翻耕平整",
        "done": "复耕到位，已种植{crop}",
        "verified": "验收合格",
    },
}
DEFAULT_NOTES = {"void": "经核实不属实", "returned": "复核未通过，退回整改"}


def parse_when(when: str | int, year: int, today: date) -> date:
    """A script date: MM-DD in `year`, a full YYYY-MM-DD, or an offset in days from today."""
    if isinstance(when, int):
        return date.fromordinal(today.toordinal() + when)
    return date.fromisoformat(when if len(when) == 10 else f"{year}-{when}")
