"""The year report as a Word document: title, the summary paragraph, the table by village (or town),
the patrol and 卫片图斑 figures when there are any, the map of demolished buildings and restored parcels, and the
chart of cases found and rectified per month. Built with the documents toolkit, offline."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.documents import blocks, charts, styles
from inspection.grid.models import GridCell
from inspection.patrols.yearly import year_patrol_figures
from inspection.reporting.dashboard_data import monthly_series
from inspection.reporting.figures import year_figures
from inspection.reporting.year_map import year_map_caption, year_map_png
from inspection.tuban.yearly import year_tuban_figures

NUMERALS = "一二三四五六七八九十"
AREA_HEADER = [
    "违建发现(处)",
    "拆除(处)",
    "拆除面积(㎡)",
    "复耕(块)",
    "复耕面积(亩)",
    "问题发现(个)",
    "整改完成(个)",
    "逾期(个)",
]
PATROL_HEADER = ["村", "巡查(次)", "里程(km)", "时长(小时)", "月均覆盖率(%)"]
TUBAN_HEADER = ["批次", "图斑(个)", "已有案件", "核查任务", "已销号", "违法(处)", "违法面积(亩)"]
NO_SUMMARY = "本年度暂无可写入总结的数据。"


def area_row(name: str, figures: dict) -> list:
    """One row of the figures table: the area's name and its counts and areas (m², 亩 unrounded)."""
    b, land, i = figures["illegal_buildings"], figures["farmland"], figures["issues"]
    return [
        name,
        b["found"],
        b["demolished"],
        float(b["demolished_area_m2"]),
        land["restored"],
        float(land["restored_area_mu"]),
        i["found"],
        i["rectified"],
        i["overdue"],
    ]


def tuban_sentence(tuban: dict) -> str:
    """The year's 图斑 in one sentence: received, linked, checked and closed, 违法 and its area."""
    rate = f"{tuban['closed'] / tuban['tasks']:.0%}" if tuban["tasks"] else "—"
    return (
        f"全年收到卫片图斑{tuban['polygons']}个（{len(tuban['batches'])}批），其中已有案件覆盖{tuban['linked']}个，"
        f"下发核查任务{tuban['tasks']}个，已核查销号{tuban['closed']}个，核查完成率{rate}；"
        f"认定违法{tuban['illegal']}处，面积{tuban['illegal_area_m2']:,.0f}平方米（{tuban['illegal_area_mu']:,.2f}亩）。"
    )


def tuban_rows(tuban: dict) -> list[list]:
    """The 图斑 table's rows: each batch, then 合计."""
    keys = ("polygons", "linked", "tasks", "closed", "illegal", "illegal_area_mu")
    rows = [[b["name"], *(b[k] for k in keys)] for b in tuban["batches"]]
    rows.append(["合计", *(tuban[k] for k in keys)])
    return rows


def patrol_rows(patrols: dict) -> list[list]:
    """The patrol table's rows: each village, then 合计 (km and hours from metres and seconds)."""
    rows = [
        [
            v["name"],
            v["patrols"],
            v["length_m"] / 1000,
            v["duration_s"] / 3600,
            v["mean_coverage"] * 100,
        ]  # fmt: skip
        for v in patrols["villages"]
    ]
    rows.append(["合计", patrols["patrols"], patrols["length_m"] / 1000,
                 patrols["duration_s"] / 3600, None])  # fmt: skip
    return rows


def place_name(figures: dict) -> str:
    """The name the report is of: the town, else the county, else nothing."""
    return figures.get("town") or figures.get("county") or ""


def report_title(figures: dict) -> str:
    """E.g. 平岗镇2022年度网格化巡查执法工作总结."""
    return f"{place_name(figures)}{figures['year']}年度网格化巡查执法工作总结"


def report_filename(figures: dict) -> tuple[str, str]:
    """The download name (Chinese) and its ASCII fallback."""
    return f"{report_title(figures)}.docx", f"year-report-{figures['year']}.docx"


def _town_cells(session: Session, town_code, town_ids):
    if town_code is not None:
        return list(session.scalars(select(GridCell).where(GridCell.code == town_code)))
    if town_ids is not None:
        return list(session.scalars(select(GridCell).where(GridCell.id.in_(sorted(town_ids)))))
    return None


def year_report_content(
    session: Session, year: int, *, radius_m: float, town_code=None, town_ids=None
) -> dict:
    """Everything the document shows: figures, patrol figures, monthly series, map PNG (or None)."""
    figures = year_figures(session, year, town_code=town_code, town_ids=town_ids)
    towns = _town_cells(session, town_code, town_ids)
    ids = None if towns is None else {t.id for t in towns}
    patrols = year_patrol_figures(session, year, None, radius_m, towns=towns)
    monthly = monthly_series(session, year, town_ids=ids)
    return {
        "figures": figures,
        "patrols": patrols,
        "tuban": year_tuban_figures(session, year, ids),
        "monthly": monthly,
        "map_png": year_map_png(session, year, ids),
    }


def monthly_totals(monthly: dict) -> tuple[list[int], list[int]]:
    """Cases of every kind found and rectified (fixed) per month."""
    kinds = monthly["kinds"].values()
    found = [sum(k["found"][m] for k in kinds) for m in range(12)]
    fixed = [sum(k["fixed"][m] for k in kinds) for m in range(12)]
    return found, fixed


def build_year_report(content: dict) -> bytes:
    """The .docx bytes of the year report from year_report_content."""
    figures, patrols = content["figures"], content["patrols"]
    doc = styles.new_document()
    blocks.title(doc, report_title(figures))
    sections = iter(NUMERALS)

    blocks.heading(doc, f"{next(sections)}、总体情况")
    blocks.paragraph(doc, figures["summary_zh"] or NO_SUMMARY)

    by_town = bool(figures.get("towns"))
    blocks.heading(doc, f"{next(sections)}、{'各镇' if by_town else '各村'}数据")
    areas = figures["towns"] if by_town else figures["villages"]
    rows = [area_row(a["name"], a) for a in areas] + [area_row("合计", figures)]
    blocks.table(doc, ["镇" if by_town else "村", *AREA_HEADER], rows)

    if patrols["patrols"]:
        blocks.heading(doc, f"{next(sections)}、巡查情况")
        km, hours = patrols["length_m"] / 1000, patrols["duration_s"] / 3600
        blocks.paragraph(
            doc, f"全年网格员巡查{patrols['patrols']}次，里程{km:,.1f}公里，时长{hours:,.1f}小时。"
        )
        blocks.table(doc, PATROL_HEADER, patrol_rows(patrols))
    tuban = content.get("tuban") or {}
    if tuban.get("polygons"):
        blocks.heading(doc, f"{next(sections)}、卫片图斑核查")
        blocks.paragraph(doc, tuban_sentence(tuban))
        blocks.table(doc, TUBAN_HEADER, tuban_rows(tuban))

    figure_no = 0
    if content["map_png"] is not None:
        figure_no += 1
        blocks.heading(doc, f"{next(sections)}、整治分布")
        blocks.picture(doc, content["map_png"], width_mm=150)
        blocks.caption(
            doc, f"图{figure_no} {year_map_caption(place_name(figures), figures['year'])}"
        )

    found, fixed = monthly_totals(content["monthly"])
    figure_no += 1
    blocks.heading(doc, f"{next(sections)}、每月发现与整改")
    png = charts.monthly_chart_png(
        [(("发现", "Found"), found), (("整改完成", "Rectified"), fixed)], kind="bar"
    )
    blocks.picture(doc, png, width_mm=150)
    blocks.caption(
        doc,
        f"图{figure_no} {figures['year']}年每月发现与整改完成案件数（蓝色为发现，绿色为整改完成）",
    )
    return styles.to_bytes(doc)
