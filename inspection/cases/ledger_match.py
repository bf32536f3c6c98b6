"""Matching re-imported rows: the client id a row's case carries, and how a row differs from it."""

import hashlib
import math

import shapely

from inspection.cases.ledger_check import RowPlan, RowWarning
from inspection.cases.ledger_rows import FIELD_NAMES_ZH
from inspection.cases.models import Case


def client_id_for(plan: RowPlan) -> str:
    """The stable client_id of a row: its explicit id, else a hash of its content."""
    if plan.external_id:
        candidate = f"import:{plan.kind}:{plan.external_id}"
        if len(candidate) <= 64:
            return candidate
    text = "|".join([plan.kind, plan.external_id or plan.fields["title"], str(plan.found_on)])
    digest = hashlib.sha1(text.encode("utf-8") + shapely.to_wkb(plan.geom)).hexdigest()
    return f"import:{digest}"


def row_differences(case: Case, plan: RowPlan) -> list[str]:
    """The fields (canonical names) in which a case imported before differs from the row now."""

    def differ(stored, given) -> bool:
        if isinstance(given, float) or isinstance(stored, float):
            return stored is None or given is None or not math.isclose(stored, given, abs_tol=1e-6)
        if isinstance(given, str) or isinstance(stored, str):
            return (stored or "").strip() != (given or "").strip()
        return stored != given

    found = [
        key
        for key, given in (
            ("status", plan.status),
            ("found_on", plan.found_on),
            ("done_on", plan.done_on),
            ("verified_on", plan.verified_on),
        )
        if differ(getattr(case, key), given)
    ]
    for key, given in sorted(plan.fields.items()):
        if key == "stated_area_m2":
            # Only a point's area is the stated one; a polygon's is measured.
            if case.geom.geom_type == "Point" and differ(case.area_m2, float(given)):
                found.append(key)
        elif differ(getattr(case, key), float(given) if key.endswith("_m2") else given):
            found.append(key)
    if case.geom.geom_type != plan.geom.geom_type or case.geom.hausdorff_distance(plan.geom) > 1e-9:
        found.append("geometry")
    return found


def changed_warning(number: int, keys: list[str]) -> RowWarning:
    names_zh = "、".join(FIELD_NAMES_ZH.get(key, key) for key in keys)
    return RowWarning(
        number,
        None,
        f"已导入的案件与文件不同（{names_zh}），未更新",
        f"the case imported before differs from the file ({', '.join(keys)}); not updated",
    )
