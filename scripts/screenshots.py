"""`make screenshots`: every main page of the demo town, as each kind of user sees it, on a phone
(390×844, touch) and a desktop (1366×768) in headless Chromium, into screenshots/ (or the folder given).

python scripts/screenshots.py [OUT]  — needs Chromium at CHROMIUM_PATH (default /usr/bin/chromium).
A fresh SQLite demo in a temporary folder, served on loopback; nothing is fetched from the internet.
"""

import os
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from inspection import db, migrate  # noqa: E402
from inspection.cases.models import Case  # noqa: E402
from inspection.grid.models import GridCell  # noqa: E402
from inspection.ops.demo import load_demo, member_username  # noqa: E402
from tests.browser_support import CHROMIUM_ARGS, serving  # noqa: E402

SIZES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
    "desktop": {"viewport": {"width": 1366, "height": 768}},
}
# (login, [(name, path)]): {case} is an open issue, {building} an illegal building, {village} a village.
PAGES = [
    (None, [("login", "/auth/login")]),
    ("zhangzhen", [
        ("home", "/"), ("cases", "/cases"), ("case", "/cases/{case}"), ("building", "/cases/{building}"),
        ("report-issue", "/cases/new/issue"), ("report-farmland", "/cases/new/farmland"),
        ("map-town", "/map"), ("map-village", "/map/village/{village}"), ("dashboard", "/dashboard"),
        ("year-report", "/report?year=2022"), ("patrols", "/patrols"), ("assessment", "/patrols/assessment"),
        ("audit", "/audit"),
    ]),
    ("admin", [("admin-users", "/admin/users"), ("admin-grid", "/admin/grid")]),
    ("{member}", [("member-home", "/"), ("member-map", "/map"), ("patrol-record", "/patrols/record")]),
]  # fmt: skip


def demo_app(tmp: Path):
    """An app on a fresh SQLite demo town in tmp, and the ids the page list names."""
    app = create_app(
        {"SECRET_KEY": "screenshots", "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
         "PHOTO_DIR": str(tmp / "photos")}
    )  # fmt: skip
    with app.app_context():
        migrate.upgrade(app.extensions["db_engine"])
        session = db.session()
        load_demo(session)
        session.commit()
        first = lambda kind: session.scalar(  # noqa: E731
            select(Case).where(Case.kind == kind).order_by(Case.id)
        )
        issue, building = first("issue"), first("illegal_building")
        group = session.scalar(select(GridCell.code).where(GridCell.level == "group").order_by(GridCell.code))
        names = {
            "case": issue.id,
            "building": building.id,
            "village": issue.village.code,
            "member": member_username(group),
        }
    return app, names


def main(out: Path) -> int:
    """Write one PNG per page, user and size; print where."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app, names = demo_app(Path(tmp))
        with serving(app) as base, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium",
                headless=True,
                args=CHROMIUM_ARGS,
            )
            count = 0
            for size, options in SIZES.items():
                for username, pages in PAGES:
                    context = browser.new_context(base_url=base, locale="zh-CN", **options)
                    context.route(  # nothing from other hosts: the pages must work offline
                        "http*://**",
                        lambda route: (
                            route.continue_() if route.request.url.startswith(base) else route.abort()
                        ),
                    )
                    page = context.new_page()
                    if username:
                        page.goto("/auth/login")
                        page.fill("input[name=username]", username.format(**names))
                        page.fill("input[name=password]", "demo1234")
                        page.click("button[type=submit]")
                        page.wait_for_load_state("networkidle")
                    for name, path in pages:
                        page.goto(path.format(**names))
                        page.wait_for_load_state("networkidle")
                        page.screenshot(path=str(out / f"{size}-{name}.png"), full_page=True)
                        count += 1
                    context.close()
            browser.close()
    print(f"{count} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots"))
