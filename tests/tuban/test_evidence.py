"""举证 and 销号: the fix within 50 m at ≤ 20 m accuracy (or an override), photos of the day, review."""

from datetime import date

import pytest
import shapely
from pyproj import Geod
from sqlalchemy import func, select

from inspection.accounts.models import User
from inspection.cases.models import Case
from inspection.cases.photos import process_photo
from inspection.errors import Conflict, InvalidInput, NotAllowed
from inspection.tuban.evidence import Evidence, Fix, review_evidence, submit_evidence
from inspection.tuban.importer import import_batch
from inspection.tuban.models import Tuban
from tests.cases.test_photos import image_bytes
from tests.tuban.test_import import DEADLINE, ROWS, frame, seeded

TODAY = date(2026, 12, 8)
INSIDE = Fix(113.0003, 30.00025, 5.0)  # in TB-2 (113.0001–113.0005, 30.0001–30.0004)


def task(session, tmp_path) -> Tuban:
    """TB-2 of an imported batch: a 核查 task for the 网格员 of T01-01."""
    seeded(session)
    path = tmp_path / "batch.geojson"
    frame(ROWS[:3]).to_file(path)
    import_batch(session, path, batch_name="2026Q4", deadline_on=DEADLINE)
    session.flush()
    return session.scalar(select(Tuban).where(Tuban.number == "TB-2"))


def photo(taken: str | None = "2026:12:08 10:30:00", colour: int = 0):
    """A processed photo with that EXIF time (None: no EXIF, like a browser camera capture)."""
    data = image_bytes(size=(64 + colour, 48), taken=taken)
    return process_photo(data, filename="现场.jpg")


def north_of_task(metres: float) -> tuple[float, float]:
    """The position `metres` due north of TB-2's north edge, on its middle meridian."""
    lon, lat, _ = Geod(ellps="GRS80").fwd(113.0003, 30.0004, 0, metres)
    return lon, lat


def submit(session, tuban, tmp_path, **fields):
    evidence = Evidence(
        **{"conclusion": "false_change", "photos": [photo()], "fix": INSIDE, **fields}
    )
    return submit_evidence(
        session, tuban, tuban.assignee, evidence, photo_dir=tmp_path / "photos", today=TODAY
    )


def test_evidence_on_site_is_stored_with_its_fix_and_photos(session, tmp_path):
    tuban = task(session, tmp_path)

    submit(session, tuban, tmp_path, photos=[photo(), photo(None, colour=1)], note="现场为临时堆放")

    assert tuban.review == "submitted" and tuban.conclusion == "false_change"
    assert tuban.fix_distance_m == 0.0 and tuban.fix_accuracy_m == 5.0
    assert len(tuban.photos) == 2 and tuban.checked_on == TODAY
    assert (tmp_path / "photos").is_dir()


@pytest.mark.parametrize(
    ("fix", "message"),
    [
        (Fix(113.0003, 30.00025, 35.0), "精度 35 米"),
        (Fix(*north_of_task(80.0), 5.0), "距图斑 80 米"),
        (None, "没有定位"),
    ],
)
def test_a_far_or_coarse_fix_needs_an_override_with_a_reason(session, tmp_path, fix, message):
    tuban = task(session, tmp_path)

    with pytest.raises(InvalidInput, match=message):
        submit(session, tuban, tmp_path, fix=fix)
    submit(session, tuban, tmp_path, fix=fix, override_reason="河道阻隔，无法靠近")

    assert tuban.review == "submitted" and tuban.override_reason == "河道阻隔，无法靠近"


def test_a_fix_40_m_away_is_accepted(session, tmp_path):
    tuban = task(session, tmp_path)

    submit(session, tuban, tmp_path, fix=Fix(*north_of_task(40.0), 10.0))

    assert tuban.fix_distance_m == pytest.approx(40.0, abs=0.1) and tuban.override_reason is None


def test_photos_of_another_day_only_are_refused(session, tmp_path):
    tuban = task(session, tmp_path)

    with pytest.raises(InvalidInput, match="2026-11-30"):
        submit(session, tuban, tmp_path, photos=[photo("2026:11:30 09:00:00")])
    with pytest.raises(InvalidInput, match="至少拍一张"):
        submit(session, tuban, tmp_path, photos=[])


def test_legal_needs_its_approval_number(session, tmp_path):
    tuban = task(session, tmp_path)

    with pytest.raises(InvalidInput, match="批准文号"):
        submit(session, tuban, tmp_path, conclusion="legal")
    submit(session, tuban, tmp_path, conclusion="legal", approval_no="粤自然资〔2026〕12号")

    assert tuban.approval_no == "粤自然资〔2026〕12号"


def test_illegal_opens_a_linked_case_from_the_polygon_once(session, tmp_path):
    tuban = task(session, tmp_path)
    before = session.scalar(select(func.count(Case.id)))

    submit(
        session,
        tuban,
        tmp_path,
        conclusion="illegal",
        case_kind="illegal_building",
        client_id="f-1",
    )
    again = submit(
        session,
        tuban,
        tmp_path,
        conclusion="illegal",
        case_kind="illegal_building",
        client_id="f-1",
    )

    assert again is tuban
    assert session.scalar(select(func.count(Case.id))) == before + 1
    (case,) = tuban.cases
    assert case.kind == "illegal_building" and case.source == "superior" and case.batch == "2026Q4"
    assert case.group.code == "T01-01" and case.geom.equals(tuban.geom)
    assert case.area_m2 == pytest.approx(tuban.area_m2)


def test_illegal_on_the_ground_of_a_closed_case_reopens_it_as_recurrence(session, tmp_path):
    from inspection.cases.history import record_change
    from inspection.cases.records import create_case
    from inspection.reporting.figures import year_figures

    tuban = task(session, tmp_path)
    corner = shapely.box(113.0004, 30.0003, 113.0007, 30.0006)  # shares a corner with TB-2
    closed, _ = create_case(session, "farmland", corner, {"title": "已复耕地块"}, tuban.assignee,
                            found_on=date(2026, 3, 1))  # fmt: skip
    for status in ("assigned", "in_progress", "done", "verified"):
        record_change(session, closed, status, None, on=date(2026, 4, 1))
    session.flush()
    before = session.scalar(select(func.count(Case.id)))

    submit(session, tuban, tmp_path, conclusion="illegal", case_kind="farmland")

    assert session.scalar(select(func.count(Case.id))) == before  # no second case of the ground
    assert tuban.cases == [closed] and closed.status == "reported"
    assert closed.history[-1].details["recurrence"] == {"via": "tuban", "tuban": tuban.id}
    block = year_figures(session, 2026)["farmland"]
    assert (block["found"], block["recurred"]) == (1, 1)


def test_review_accepts_or_sends_back_and_only_managers_review(session, tmp_path):
    tuban = task(session, tmp_path)
    supervisor = User(username="zz", display_name="镇领导", role="supervisor", password_hash="x")
    session.add(supervisor)
    submit(session, tuban, tmp_path)

    with pytest.raises(NotAllowed):
        review_evidence(session, tuban, tuban.assignee, accept=True, note="", today=TODAY)
    with pytest.raises(InvalidInput, match="原因"):
        review_evidence(session, tuban, supervisor, accept=False, note="", today=TODAY)
    review_evidence(session, tuban, supervisor, accept=False, note="照片看不清", today=TODAY)
    assert tuban.review == "returned"

    submit(session, tuban, tmp_path, photos=[photo(colour=3)])
    review_evidence(session, tuban, supervisor, accept=True, note="", today=TODAY)

    assert tuban.review == "accepted" and tuban.reviewed_by is supervisor
    with pytest.raises(Conflict):
        submit(session, tuban, tmp_path)


def test_someone_elses_task_is_refused(session, tmp_path):
    tuban = task(session, tmp_path)
    other = session.scalar(select(User).where(User.username == "wgT02-01"))
    evidence = Evidence(conclusion="false_change", photos=[photo()], fix=INSIDE)

    with pytest.raises(NotAllowed):
        submit_evidence(session, tuban, other, evidence, photo_dir=tmp_path, today=TODAY)
