"""The demo town's 卫片图斑 batch: six change polygons, imported as the bureau's file would be.

Two lie over closed demo cases (a demolished building and a restored parcel): they are linked, and
bring those cases' 回头看 forward. Four lie in four groups: 核查 tasks for their 网格员, unless a demo
case already covers the ground. The batch goes through import_batch like an upload (a GeoJSON in
CGCS2000 lon/lat), once.
"""

import json
from datetime import date, timedelta

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from inspection.cases.models import Case
from inspection.grid.models import GridCell
from inspection.tuban.importer import ImportReport, import_batch
from inspection.tuban.models import TubanBatch

BATCH_NAME = "演示县2026年第四季度卫片图斑"
SIDE_DEG = 0.0005  # about 50 m


def _feature(number: str, polygon, change: str, area_m2: float) -> dict:
    return {
        "type": "Feature",
        "properties": {
            "TBBH": number,
            "BHLX": change,
            "JCMJ": round(area_m2, 1),
            "QSX": "2026-06",
            "HSX": "2026-10",
        },  # fmt: skip
        "geometry": shapely.geometry.mapping(polygon),
    }


def _closed(session: Session, kind: str) -> Case | None:
    return session.scalar(
        select(Case).where(Case.kind == kind, Case.status == "verified").order_by(Case.id)
    )


def demo_batch(session: Session, today: date) -> ImportReport | None:
    """Import the demo batch (None when it is there already); the caller commits."""
    if session.scalar(select(TubanBatch.id).where(TubanBatch.name == BATCH_NAME)) is not None:
        return None
    features = []
    for n, kind in enumerate(("illegal_building", "farmland")):
        case = _closed(session, kind)
        if case is not None:
            square = case.geom.representative_point().buffer(SIDE_DEG / 2, cap_style="square")
            features.append(_feature(f"DEMO-{n + 1:02d}", square, "新增建设用地", 2500.0))
    groups = session.scalars(
        select(GridCell).where(GridCell.level == "group").order_by(GridCell.code).limit(40)
    ).all()
    for n, group in enumerate(groups[::10][:4], start=3):
        point = group.boundary.representative_point()
        square = point.buffer(SIDE_DEG / 2, cap_style="square")
        features.append(_feature(f"DEMO-{n:02d}", square, "耕地变化", 2500.0))
    if not features:
        return None
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return import_batch(
        session,
        data,
        filename="demo_tuban.geojson",
        batch_name=BATCH_NAME,
        deadline_on=today + timedelta(days=20),
    )
