"""Import a batch of 图斑: match each to the cases covering its ground, else dispatch a 核查 task.

A 图斑 is linked to every illegal-building or farmland case (not void) whose polygon shares at least
30 % of the smaller geodesic area with it, or whose point lies inside it; a linked 图斑 needs no task.
Every other one becomes a task in the 组 holding the largest part of its area, for that group's
网格员, due on the batch deadline. One outside every 组 of the scope is refused with its number.
Re-importing a batch is idempotent: the same number is the same 图斑; a changed polygon is updated
(and matched again), an equal one left alone.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.overlap import largest_part, matching_pairs
from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.cases.records import default_responsibles
from inspection.db import begin_write
from inspection.errors import InvalidInput
from inspection.grid.models import GridCell
from inspection.tuban.models import Tuban, TubanBatch
from inspection.tuban.rows import Refusal, TubanRow, read_tuban_file
from inspection.tuban.signals import batch_imported

MATCHED_KINDS = ("illegal_building", "farmland")
# Two polygons closer than this (degrees, about 1 mm) are the same 图斑 re-sent.
SAME_SHAPE_DEG = 1e-8


@dataclass
class ImportReport:
    """What one import did, as `import-tuban --json` prints it."""

    batch: str
    imported: int = 0
    unchanged: int = 0
    updated: int = 0
    linked: int = 0
    tasks: int = 0
    repaired: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    # The closed cases whose 回头看 a 图斑 of the batch brought forward (set by a listener).
    rechecks: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        """The report's figures and lists as plain JSON values."""
        return {
            "batch": self.batch,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "updated": self.updated,
            "linked": self.linked,
            "tasks": self.tasks,
            "repaired": self.repaired,
            "refused": [r.as_json() for r in self.refused],
            "items": self.items,
            "rechecks": sorted(self.rechecks),
        }


def _groups(session: Session, town: GridCell | None) -> list[GridCell]:
    """The 组 cells a batch may fall in: the town's, or every town's (a county batch)."""
    groups = session.scalars(
        select(GridCell).where(GridCell.level == "group").order_by(GridCell.code)
    ).all()
    if town is None:
        return list(groups)
    villages = {
        v.id for v in session.scalars(select(GridCell).where(GridCell.parent_id == town.id))
    }
    return [g for g in groups if g.parent_id in villages]


def _candidate_cases(session: Session, rows: list[TubanRow]) -> list[Case]:
    """The illegal-building and farmland cases (not void) within the rows' bounding box."""
    min_lon, min_lat, max_lon, max_lat = shapely.total_bounds([r.geom for r in rows])
    return list(
        session.scalars(
            select(Case)
            .where(
                Case.kind.in_(MATCHED_KINDS),
                Case.status != "void",
                Case.max_lon >= min_lon,
                Case.min_lon <= max_lon,
                Case.max_lat >= min_lat,
                Case.min_lat <= max_lat,
            )
            .order_by(Case.id)
        )
    )


def _batch(session: Session, name: str, deadline_on: date, town, actor, source_name) -> TubanBatch:
    """The batch of that name, created or given the new deadline; a batch stays in its own town."""
    batch = session.scalars(select(TubanBatch).where(TubanBatch.name == name)).first()
    town_id = town.id if town is not None else None
    if batch is None:
        batch = TubanBatch(name=name, town_id=town_id)
        session.add(batch)
    elif batch.town_id != town_id:
        raise InvalidInput(
            "tuban_batch_other_scope",
            f"批次“{name}”已导入到另一辖区，不能在此更新",
            f"Batch {name!r} was imported for another area and cannot be updated here",
        )
    batch.deadline_on = deadline_on
    batch.source_name = source_name
    batch.imported_by = actor
    return batch


def _same_shape(a, b) -> bool:
    """True when two polygons (lon/lat) are the same within SAME_SHAPE_DEG, vertex order aside."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), SAME_SHAPE_DEG))


def import_batch(
    session: Session,
    path,
    *,
    batch_name: str,
    deadline_on: date,
    id_field: str | None = None,
    crs: str | None = None,
    town: GridCell | None = None,
    actor: User | None = None,
    zip_limits: dict | None = None,
    max_vertices: int = 20000,
    filename: str | None = None,
) -> ImportReport:
    """Import a 图斑 file as batch `batch_name` of `town` (None: the county); the caller commits.

    `path` is a path or an uploaded file's stream (then `filename` is the name it came with).

    Raises GeodataError or InvalidInput, before anything is written, when the file cannot be read,
    has no number field, or none of its 图斑 lies in the grid (a wrong CRS, most likely).
    """
    batch_name = batch_name.strip()
    if not batch_name:
        raise InvalidInput("tuban_batch_name", "请填写批次名称", "Give the batch a name")
    rows, refused = read_tuban_file(
        path,
        id_field=id_field,
        crs=crs,
        zip_limits=zip_limits or {},
        max_vertices=max_vertices,
        filename=filename,
    )
    report = ImportReport(batch_name, refused=list(refused))
    begin_write(session)
    groups = _groups(session, town)
    best = (
        largest_part([r.geom for r in rows], [g.boundary for g in groups]) if rows else np.empty(0)
    )
    placed = [(row, groups[k]) for row, k in zip(rows, best, strict=True) if k >= 0]
    for row, k in zip(rows, best, strict=True):
        if k < 0:
            report.refused.append(
                Refusal(
                    row.row, row.number, "不在辖区任何组内", "Lies outside every group of the area"
                )
            )
    if rows and not placed:
        raise InvalidInput(
            "tuban_batch_outside",
            "整批图斑都不在辖区内：坐标系可能不对（可用 --crs 指定），或批次属于别的镇",
            "No 图斑 of the batch lies in the area: the CRS may be wrong (give --crs), "
            "or the batch belongs to another town",
        )
    batch = _batch(
        session, batch_name, deadline_on, town, actor, (filename or Path(str(path)).name)[:255]
    )
    session.flush()
    cases = _candidate_cases(session, [row for row, _ in placed]) if placed else []
    i, j = matching_pairs([row.geom for row, _ in placed], [c.geom for c in cases])
    linked: dict[int, list[Case]] = {}
    for a, b in zip(i, j, strict=True):
        linked.setdefault(int(a), []).append(cases[b])
    existing = {t.number: t for t in batch.items}
    villages = {g.parent_id for _, g in placed}
    town_of = {
        v.id: v.parent_id
        for v in session.scalars(select(GridCell).where(GridCell.id.in_(villages)))
    }
    responsible = default_responsibles(session, [g.id for _, g in placed])
    context = _Context(batch, deadline_on, existing, linked, responsible, town_of)
    with session.no_autoflush:
        _store(session, report, placed, context)
    report.refused.sort(key=lambda r: r.row)
    report.items += [
        {"id": r.number, "outcome": "refused", "group": None, "cases": []} for r in report.refused
    ]
    session.flush()
    batch_imported.send(None, session=session, batch=batch, report=report)
    return report


@dataclass(frozen=True)
class _Context:
    """What storing a batch's placed rows reads besides the rows themselves."""

    batch: TubanBatch
    deadline_on: date
    existing: dict[str, Tuban]  # the batch's 图斑 already stored, by number
    linked: dict[int, list[Case]]  # a placed row's position → the cases covering it
    responsible: dict[int, User]  # group id → its 网格员
    town_of: dict[int, int]  # village id → town id


def _store(session: Session, report: ImportReport, placed: list, context: _Context) -> None:
    """Create or update each placed (row, group)'s 图斑 and count it in the report."""
    batch, deadline_on = context.batch, context.deadline_on
    for position, (row, group) in enumerate(placed):
        tuban = context.existing.get(row.number)
        if tuban is not None and _same_shape(tuban.geom, row.geom):
            report.unchanged += 1
            tuban.attributes = row.attributes
        else:
            if tuban is None:
                tuban = Tuban(batch=batch, number=row.number)
                session.add(tuban)
                report.imported += 1
            else:
                report.updated += 1
            tuban.set_geometry(row.geom, row.area_m2)
            tuban.repaired, tuban.attributes = row.repaired, row.attributes
            tuban.group_id, tuban.village_id = group.id, group.parent_id
            tuban.town_id = context.town_of.get(group.parent_id)
            member = context.responsible.get(group.id)
            _dispatch(tuban, context.linked.get(position, []), member, deadline_on)
        if row.repaired:
            report.repaired.append(row.number)
        if tuban.outcome == "task" and tuban.due_on != deadline_on and tuban.review != "accepted":
            tuban.due_on = deadline_on
        report.linked += tuban.outcome == "linked"
        report.tasks += tuban.outcome == "task"
        report.items.append(
            {
                "id": row.number,
                "outcome": tuban.outcome,
                "group": group.code,
                "cases": [c.id for c in tuban.cases],
            }
        )


def _dispatch(tuban: Tuban, cases: list[Case], member: User | None, deadline_on) -> None:
    """Link the 图斑 to the cases covering it, or make it a 核查 task for the group's 网格员."""
    tuban.cases = cases
    if cases:
        tuban.outcome, tuban.assignee, tuban.due_on = "linked", None, None
    else:
        tuban.outcome, tuban.due_on, tuban.assignee = "task", deadline_on, member
