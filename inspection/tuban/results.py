"""A batch's results for the bureau: its progress figures and the 图斑 table as xlsx, GPKG or Shapefile.

Fields (xlsx and GeoPackage in Chinese; the Shapefile's DBF takes 10-byte names, so there the
bureau's pinyin abbreviations): 图斑编号 TBBH, 所在村 CUN, 所在组 ZU, 核查结论 HCJL, 违法面积(m²) WFMJ_M2,
违法面积(亩) WFMJ_MU, 照片数 ZPS, 核查人 HCR, 核查日期 HCRQ. Areas are the 图斑's geodesic area.
"""

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
from openpyxl import Workbook
from openpyxl.styles import Font

from geodata.area import m2_to_mu
from geodata.export import write_gpkg, write_shapefile_zip
from inspection.tuban.evidence import CONCLUSIONS
from inspection.tuban.models import Tuban, TubanBatch

COLUMNS = (
    "图斑编号",
    "所在村",
    "所在组",
    "核查结论",
    "违法面积(m²)",
    "违法面积(亩)",
    "照片数",
    "核查人",
    "核查日期",
)
SHAPEFILE_COLUMNS = ("TBBH", "CUN", "ZU", "HCJL", "WFMJ_M2", "WFMJ_MU", "ZPS", "HCR", "HCRQ")
FORMULA_PREFIXES = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Progress:
    """A batch's figures: 图斑, linked, tasks, 举证 submitted / accepted, 违法 count and area, late."""

    total: int
    linked: int
    tasks: int
    submitted: int
    accepted: int
    illegal: int
    illegal_area_m2: float
    rectified: int
    late: int

    @property
    def done_rate(self) -> float | None:
        """核查完成率: accepted checks among tasks (None with no task)."""
        return self.accepted / self.tasks if self.tasks else None

    @property
    def illegal_area_mu(self) -> float:
        """The 违法 area in 亩."""
        return float(m2_to_mu(self.illegal_area_m2))


def progress(items: list[Tuban], today: date) -> Progress:
    """The progress of a batch's 图斑 (those the viewer sees) on `today`."""
    tasks = [t for t in items if t.outcome == "task"]
    illegal = [t for t in tasks if t.conclusion == "illegal" and t.review != "returned"]
    return Progress(
        total=len(items),
        linked=len(items) - len(tasks),
        tasks=len(tasks),
        submitted=sum(t.review == "submitted" for t in tasks),
        accepted=sum(t.review == "accepted" for t in tasks),
        illegal=len(illegal),
        illegal_area_m2=sum(t.area_m2 for t in illegal),
        rectified=sum(any(c.status in ("done", "verified") for c in t.cases) for t in illegal),
        late=sum(
            t.review != "accepted" and t.due_on is not None and t.due_on < today for t in tasks
        ),
    )


def _row(tuban: Tuban) -> tuple:
    """One 图斑's result fields, in COLUMNS order."""
    illegal_m2 = tuban.area_m2 if tuban.conclusion == "illegal" else 0.0
    if tuban.outcome == "linked":
        conclusion = "已有案件：" + "、".join(f"#{c.id}" for c in tuban.cases)
    elif tuban.conclusion:
        conclusion = CONCLUSIONS[tuban.conclusion][0] + (
            "（已销号）" if tuban.review == "accepted" else ""
        )
    else:
        conclusion = "未核查"
    return (
        tuban.number,
        tuban.village.name if tuban.village else "",
        tuban.group.name if tuban.group else "",
        conclusion,
        round(illegal_m2, 2),
        round(float(m2_to_mu(illegal_m2)), 4),
        len(tuban.photos),
        tuban.checked_by.display_name if tuban.checked_by else "",
        tuban.checked_on.isoformat() if tuban.checked_on else "",
    )


def results_frame(items: list[Tuban], *, shapefile: bool = False) -> gpd.GeoDataFrame:
    """The results table with each 图斑's polygon (lon/lat EPSG:4326)."""
    columns = SHAPEFILE_COLUMNS if shapefile else COLUMNS
    rows = [_row(t) for t in items]
    data = {name: [r[k] for r in rows] for k, name in enumerate(columns)}
    return gpd.GeoDataFrame(data, geometry=[t.geom for t in items], crs="EPSG:4326")


def write_results_xlsx(batch: TubanBatch, items: list[Tuban], target) -> None:
    """The results as one sheet named after the batch (text cells never read as formulas)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "核查结果"
    sheet.append([f"{batch.name} 卫片图斑核查结果（截止 {batch.deadline_on.isoformat()}）"])
    sheet.append(list(COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for values in (_row(t) for t in items):
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.quotePrefix = cell.value.startswith(FORMULA_PREFIXES)
    sheet.freeze_panes = "B3"
    workbook.save(target)


def write_results_gpkg(items: list[Tuban], target) -> None:
    """The results as a GeoPackage layer `tuban` (Chinese field names)."""
    write_gpkg(results_frame(items), target, layer="tuban")


def write_results_shapefile(items: list[Tuban], target) -> None:
    """The results as a zipped UTF-8 Shapefile `tuban_polygon` (pinyin field names, see above)."""
    write_shapefile_zip(results_frame(items, shapefile=True), target, name="tuban")
