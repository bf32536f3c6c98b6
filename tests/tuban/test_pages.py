"""The 图斑 pages: a supervisor's upload, the 网格员's 举证 on the phone, review, results for the bureau."""

import io
import zipfile

import geopandas as gpd
import pyogrio
from openpyxl import load_workbook
from shapely.geometry import box
from sqlalchemy import func, select

from inspection import db
from inspection.tuban.models import Tuban, TubanBatch
from tests.cases.test_photos import image_bytes
from tests.conftest import csrf_token, login
from tests.test_route_access import seed_county

IN_A1 = box(113.0012, 30.0012, 113.0018, 30.0018)  # group PG01-01 of 平岗镇
IN_B = box(113.0120, 30.0020, 113.0130, 30.0030)  # group PG02-01
IN_SQ = box(113.0300, 30.0020, 113.0310, 30.0030)  # 石桥镇


def zipped_shapefile(tmp_path, rows) -> bytes:
    """A zipped GBK Shapefile without .cpg of (TBBH, 变化类型, polygon) rows, in CGCS2000 3° zone 38."""
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    frame = gpd.GeoDataFrame(
        {"TBBH": [r[0] for r in rows], "变化类型": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:4326",
    ).to_crs("EPSG:4526")
    frame.to_file(folder / "jc.shp", encoding="GBK")
    (folder / "jc.cpg").unlink(missing_ok=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
    return out.getvalue()


def upload(client, data: bytes, name="卫片.zip", batch="2026年第4季度", deadline="2026-12-31"):
    token = csrf_token(client, "/tuban/")
    return client.post(
        "/tuban/",
        data={
            "csrf_token": token,
            "batch": batch,
            "deadline": deadline,
            "file": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )


def test_the_whole_loop_from_upload_to_results(app, client, tmp_path):
    seed_county(app)
    login(client, "zhangzhen")
    rows = [
        ("JC-1", "新增建设用地", IN_A1),
        ("JC-2", "耕地变化", IN_B),
        ("JC-3", "新增建设用地", IN_SQ),
    ]

    uploaded = upload(client, zipped_shapefile(tmp_path, rows))

    assert uploaded.status_code == 303
    page = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    listed = page.split('id="items"')[1]
    assert "JC-1" in listed and "JC-2" in listed and "JC-3" not in listed  # 石桥镇's is not his
    assert "第 3 行（JC-3）：不在辖区任何组内" in page  # refused, and said so
    with app.app_context():
        batch = db.session.scalar(select(TubanBatch))
        assert batch.town.code == "PG" and len(batch.items) == 2
        task = db.session.scalar(select(Tuban).where(Tuban.number == "JC-1"))
        assert task.assignee.username == "wgy_a1" and task.attributes["变化类型"] == "新增建设用地"
        task_id, batch_id = task.id, batch.id

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/tuban/")})
    login(client, "wgy_a1")
    assert "JC-1" in client.get("/tuban/").get_data(as_text=True)
    form = client.get(f"/tuban/{task_id}").get_data(as_text=True)
    assert 'id="evidence-form"' in form and "tuban_fix.js" in form
    token = csrf_token(client, f"/tuban/{task_id}")
    evidence = {
        "csrf_token": token,
        "client_id": "form-1",
        "conclusion": "illegal",
        "case_kind": "illegal_building",
        "fix_lon": "113.0015",
        "fix_lat": "30.0015",
        "fix_accuracy": "6",
        "photos": (io.BytesIO(image_bytes(taken=None)), "现场.jpg"),
    }
    sent = client.post(f"/tuban/{task_id}", data=evidence, content_type="multipart/form-data")
    assert sent.status_code == 303

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/tuban/")})
    login(client, "zhangzhen")
    token = csrf_token(client, f"/tuban/{task_id}")
    reviewed = client.post(
        f"/tuban/{task_id}/review", data={"csrf_token": token, "decision": "accept"}
    )
    assert reviewed.status_code == 303
    progress = client.get(f"/tuban/batches/{batch_id}").get_data(as_text=True)
    assert 'id="done-rate">50%' in progress  # JC-1 closed, JC-2 not checked yet
    assert 'id="illegal">1 · ' in progress

    xlsx = client.get(f"/tuban/batches/{batch_id}/results.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert table[0][:4] == ["图斑编号", "所在村", "所在组", "核查结论"]
    first = dict(zip(table[0], table[1], strict=True))
    area_m2 = first["违法面积(m²)"]
    assert first["图斑编号"] == "JC-1" and first["核查结论"] == "违法（已销号）"
    assert first["所在村"] == "平岗村" and first["照片数"] == 1 and area_m2 > 3000
    assert abs(first["违法面积(亩)"] - area_m2 / 666.6667) < 0.01
    gpkg = tmp_path / "r.gpkg"
    gpkg.write_bytes(client.get(f"/tuban/batches/{batch_id}/results.gpkg").data)
    reopened = pyogrio.read_dataframe(gpkg)
    assert list(reopened["图斑编号"]) == ["JC-1", "JC-2"] and reopened.crs.to_epsg() == 4326
    shp = tmp_path / "r.zip"
    shp.write_bytes(client.get(f"/tuban/batches/{batch_id}/results.shp").data)
    dbf = pyogrio.read_dataframe(f"/vsizip/{shp}/tuban_polygon.shp")
    assert list(dbf["TBBH"]) == ["JC-1", "JC-2"] and list(dbf["HCJL"])[1] == "未核查"


def test_a_bad_file_is_refused_with_its_reason_and_nothing_stored(app, client):
    seed_county(app)
    login(client, "zhangzhen")

    response = upload(client, b"PK\x03\x04 broken", name="坏文件.zip")

    assert response.status_code == 422
    assert 'id="upload-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(TubanBatch.id))) == 0


def test_evidence_far_away_is_refused_on_the_page(app, client, tmp_path):
    seed_county(app)
    login(client, "zhangzhen")
    upload(client, zipped_shapefile(tmp_path, [("JC-1", "新增", IN_A1)]))
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/tuban/")})
    login(client, "wgy_a1")
    with app.app_context():
        task_id = db.session.scalar(select(Tuban.id))
    token = csrf_token(client, f"/tuban/{task_id}")

    response = client.post(
        f"/tuban/{task_id}",
        data={
            "csrf_token": token,
            "conclusion": "false_change",
            "fix_lon": "113.0040",
            "fix_lat": "30.0015",
            "fix_accuracy": "5",
            "photos": (io.BytesIO(image_bytes(taken=None)), "p.jpg"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "距图斑" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Tuban, task_id).review == "open"
