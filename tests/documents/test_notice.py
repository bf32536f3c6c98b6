"""The 整改通知书 of a case: its parts, map and QR code, scope (404), the command. Both backends."""

from datetime import date

import pytest

from inspection import db
from inspection.cases.models import Case
from inspection.documents import legal, qr
from inspection.documents.downloads import DOCX_MIMETYPE
from inspection.vocab import CATEGORIES, KINDS
from tests.cases.test_report_forms import seed_town
from tests.conftest import login, migrated_app
from tests.documents.support import east_asia_fonts, reopen

PUBLIC = "https://xuncha.example.gov.cn"


def _app(db_url, tmp_path, **config):
    app = migrated_app(tmp_path, DATABASE_URL=db_url, **config)
    ids = seed_town(app)
    return app, ids["case"]


@pytest.fixture
def town(db_url, tmp_path):
    """The seeded town on each backend with PUBLIC_URL set, and its case id (no deadline yet)."""
    app, case_id = _app(db_url, tmp_path, PUBLIC_URL=PUBLIC + "/")
    yield app, case_id
    app.extensions["db_engine"].dispose()


def _notice(app, case_id: int, username: str = "zhangzhen"):
    client = app.test_client()
    login(client, username)
    response = client.get(f"/cases/{case_id}/notice.docx")
    data = response.get_data()
    response.close()
    return response, data


def _labelled(document) -> dict[str, str]:
    """The notice's "label：text" lines (a bold first run) as a dict."""
    lines = {}
    for p in document.paragraphs:
        if len(p.runs) == 2 and p.runs[0].bold and p.runs[0].text.endswith("："):
            lines[p.runs[0].text[:-1]] = p.runs[1].text
    return lines


def _image_blobs(document) -> list[bytes]:
    part = document.part
    return [part.related_parts[s._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
            for s in document.inline_shapes]  # fmt: skip


def test_notice_of_a_case_without_deadline(town):
    app, case_id = town
    response, data = _notice(app, case_id)
    assert response.status_code == 200 and response.mimetype == DOCX_MIMETYPE
    document = reopen(data)
    lines = _labelled(document)

    assert lines["整改期限"] == "—"
    assert lines["当事人"] == "—" and lines["整改措施"] == "—"
    assert lines["地点"] == "平岗村一组（东经113.00250°，北纬30.00500°）"
    assert lines["问题"] == "问题·垃圾乱堆乱放：河边垃圾"
    assert lines["依据"] == "；".join(legal.BY_CATEGORY["garbage"])
    texts = [p.text for p in document.paragraphs]
    assert "责令整改通知书" in texts and "平岗镇人民政府" in texts
    assert any("立即按上述整改措施完成整改" in t for t in texts)
    assert all(east_asia_fonts(document))


def test_notice_has_the_map_and_a_qr_code_of_the_case_page(town):
    app, case_id = town
    _response, data = _notice(app, case_id)
    document = reopen(data)
    url = f"{PUBLIC}/cases/{case_id}"

    assert len(document.inline_shapes) == 2  # the location map, the QR code
    blobs = _image_blobs(document)
    assert blobs[1] == qr.qr_png(url)  # the very code of the case's link
    assert f"扫码查看案件：{url}" in [p.text for p in document.paragraphs]


def test_notice_with_party_measures_and_deadline(town):
    app, case_id = town
    with app.app_context():
        case = db.session.get(Case, case_id)
        case.party, case.measures = "李某", "清运垃圾并恢复原状"
        case.deadline_on = date(2026, 5, 31)
        db.session.commit()
    _response, data = _notice(app, case_id)
    document = reopen(data)
    lines = _labelled(document)
    texts = [p.text for p in document.paragraphs]

    assert lines["当事人"] == "李某" and "李某：" in texts
    assert lines["整改措施"] == "清运垃圾并恢复原状"
    assert lines["整改期限"] == "2026年5月31日前"
    assert any("于2026年5月31日前按上述整改措施完成整改" in t for t in texts)


def test_without_public_url_the_qr_code_links_the_request_host(db_url, tmp_path):
    app, case_id = _app(db_url, tmp_path)
    try:
        _response, data = _notice(app, case_id)
        document = reopen(data)
        assert _image_blobs(document)[1] == qr.qr_png(f"http://localhost/cases/{case_id}")
    finally:
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("username", ["wgy_a2", "cz_b"])
def test_notice_of_a_case_outside_the_users_grid_is_404(town, username):
    app, case_id = town
    response, _data = _notice(app, case_id, username)
    assert response.status_code == 404


def test_notice_of_no_such_case_is_404(town):
    app, case_id = town
    response, _data = _notice(app, case_id + 1000)
    assert response.status_code == 404


def test_case_page_offers_the_notice(town):
    app, case_id = town
    client = app.test_client()
    login(client, "wgy_a1")
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/notice.docx" in html


def test_notice_command_writes_a_docx(town, tmp_path):
    app, case_id = town
    out = tmp_path / "notice.docx"
    result = app.test_cli_runner().invoke(args=["notice", str(case_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = reopen(out.read_bytes())
    assert _labelled(document)["整改期限"] == "—"
    assert _image_blobs(document)[1] == qr.qr_png(f"{PUBLIC}/cases/{case_id}")


def test_notice_command_of_no_such_case_fails_clearly(town, tmp_path):
    app, case_id = town
    out = tmp_path / "notice.docx"
    result = app.test_cli_runner().invoke(args=["notice", str(case_id + 1000), "--out", str(out)])
    assert result.exit_code != 0 and f"没有编号为 {case_id + 1000} 的案件" in result.output
    assert not out.exists()


def test_every_kind_and_category_has_a_legal_basis():
    for kind in KINDS:
        for category in (*CATEGORIES, None):
            basis = legal.legal_basis(kind, category)
            assert basis and all(basis)
    assert legal.laws_cited("illegal_building", None)[0] == legal.PLANNING
    assert any("第六十五条" in p for p in legal.legal_basis("illegal_building", None))
    assert legal.laws_cited("issue", "straw_burning") == [legal.AIR]
    assert legal.legal_basis("issue", "fire_hazard") == legal.FALLBACK
    with_laws = {"issue": set(CATEGORIES) - {"fire_hazard", "other"}}
    for category in with_laws["issue"]:
        assert legal.laws_cited("issue", category), category
