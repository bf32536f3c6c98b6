"""The year-end paragraph in Chinese, with figures rounded the way a township's summary rounds them."""

from decimal import ROUND_HALF_UP, Decimal

OPENING = "今年以来"


def round_sig(value: float, digits: int = 2) -> Decimal:
    """Round a non-negative number half-up to `digits` significant figures (≤ 0 gives 0)."""
    if value <= 0:
        return Decimal(0)
    exact = Decimal(repr(float(value)))
    step = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return exact.quantize(step, rounding=ROUND_HALF_UP)


def figure_zh(number: Decimal) -> str:
    """Write a rounded figure as a summary does: 380, 52, 3.4, and 1.2万 from ten thousand up."""
    if number >= 10000:
        return f"{_plain(number / 10000)}万"
    return _plain(number)


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def approx_m2(area_m2: float, unit: str = "㎡") -> str:
    """An area in m² to two significant figures: 378.6 → 约380㎡, 52.3 → 约52㎡, 1530 → 约1500㎡."""
    return f"约{figure_zh(round_sig(area_m2))}{unit}"


def approx_mu(area_mu: float) -> str:
    """An area in 亩 to two significant figures, with 余 when above it: 120.4 → 约120余亩, 119.6 → 约120亩.

    余 ("and more") is only said of whole 亩 (10 and up) and only when the figure shown to 2 decimals
    exceeds the round number; below 10 亩 the decimal is written instead (3.44 → 约3.4亩).
    """
    rounded = round_sig(area_mu)
    shown = Decimal(repr(float(area_mu))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    more = "余" if rounded >= 10 and shown > rounded else ""
    return f"约{figure_zh(rounded)}{more}亩"


def we_of(town_name: str | None) -> str:
    """How the town names itself in its own summary: 我镇, 我乡 or 我街道."""
    for suffix in ("街道", "乡", "镇"):
        if (town_name or "").endswith(suffix):
            return f"我{suffix}"
    return "我镇"


def _patrol_sentence(found: int, rectified: int) -> str:
    if found and rectified:
        return f"巡查发现环保问题{found}个，整改完成{rectified}个。"
    if found:
        return f"巡查发现环保问题{found}个。"
    if rectified:
        return f"整改完成巡查发现的环保问题{rectified}个。"
    return ""


def certified_sentence(certified: int, *, we: str = "我镇") -> str:
    """The seed's sentence of certified enforcement staff; empty when there are none."""
    if not certified:
        return ""
    return f"{we}组织执法人员参加行政执法资格考试，其中有{certified}名执法人员取得行政执法证。"


def grid_clause(grid: dict, *, whole: str = "全镇") -> str:
    """ "全镇划分5个村、18个村民小组，配备18名网格员" (全县 … N个镇 for a county); parts at zero left out."""
    parts = []
    if grid.get("towns"):
        parts.append(f"{grid['towns']}个镇")
    if grid.get("villages"):
        parts.append(f"{grid['villages']}个村")
    if grid.get("groups"):
        parts.append(f"{grid['groups']}个村民小组")
    clause = f"{whole}划分{'、'.join(parts)}" if parts else ""
    if grid.get("grid_members"):
        clause += ("，" if clause else "") + f"配备{grid['grid_members']}名网格员"
    return clause


def recurrence_sentence(figures: dict) -> str:
    """ "回头看发现已销号问题复发1处，已重新纳入整改。"; empty when nothing recurred in the year."""
    count = sum(figures[k].get("recurred", 0) for k in ("illegal_buildings", "farmland", "issues"))
    return f"回头看发现已销号问题复发{count}处，已重新纳入整改。" if count else ""


def year_summary(figures: dict, *, we: str = "我镇", opening: str = OPENING) -> str:
    """The paragraph of the year figures (town level), leaving out clauses whose figure is zero.

    E.g. "今年以来，我镇依法拆除违法建筑2处约380㎡，复耕面积约120余亩，整改完成上级反馈问题5个。
    巡查发现环保问题4个，整改完成4个。"; an empty string when every case figure is zero. When the
    figures carry `certified_officers` and `grid` (reporting.staffing), the certificate sentence
    opens the paragraph and the grid clause leads the patrol sentence, as in the seed summary.
    """
    buildings, farmland = figures["illegal_buildings"], figures["farmland"]
    superior = figures["issues"]["superior"]
    patrol = figures["issues"]["patrol_environment"]
    clauses = []
    if buildings["demolished"]:
        clause = f"依法拆除违法建筑{buildings['demolished']}处"
        if round_sig(buildings["demolished_area_m2"]) > 0:
            clause += approx_m2(buildings["demolished_area_m2"])
        clauses.append(clause)
    if farmland["restored"]:
        if round_sig(farmland["restored_area_mu"]) > 0:
            clauses.append(f"复耕面积{approx_mu(farmland['restored_area_mu'])}")
        else:
            clauses.append(f"复耕地块{farmland['restored']}块")
    if superior["rectified"]:
        clauses.append(f"整改完成上级反馈问题{superior['rectified']}个")
    sentences = "，".join(clauses) + "。" if clauses else ""
    patrol_text = _patrol_sentence(patrol["found"], patrol["rectified"])
    recurred = recurrence_sentence(figures)
    if not sentences and not patrol_text and not recurred:
        return ""
    grid = grid_clause(figures.get("grid") or {}, whole="全县" if we == "我县" else "全镇")
    if grid and patrol_text:
        patrol_text = f"{grid}，{patrol_text}"
    elif grid:
        patrol_text = f"{grid}。"
    sentences += patrol_text + recurred
    certified = certified_sentence(figures.get("certified_officers") or 0, we=we)
    subject = we if clauses or not grid else ""  # "今年以来，全镇划分…" reads without 我镇
    return f"{certified}{opening}，{subject}{sentences}"
