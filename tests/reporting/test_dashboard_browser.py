"""The dashboard in headless Chromium, under the real CSP: charts drawn on a phone and a desktop."""

from datetime import date

import pytest

from inspection import db
from inspection.ops.demo import load_demo
from tests.browser_support import make_app, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """The demo town served on 127.0.0.1 in a thread, on a temporary SQLite database."""
    app = make_app(tmp_path_factory.mktemp("dashboard-browser"))
    with app.app_context():
        load_demo(db.session(), today=date(2023, 6, 1))
        db.session().commit()
    with serving(app) as base:
        yield base


def chart_pixels(page, canvas_id: str) -> int:
    """How many pixels of a chart's canvas are painted (not transparent)."""
    return page.evaluate(
        """id => {
          const c = document.getElementById(id);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;
        }""",
        canvas_id,
    )


@pytest.mark.parametrize(("width", "lang"), [(390, "zh"), (1280, "en")])
def test_charts_are_drawn_without_errors_and_fit_the_screen(browser, base_url, width, lang):
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base_url)
    page = context.new_page()
    errors, other_hosts = [], []
    # Failed loads are judged by their responses (the browser's own /favicon.ico probe may 404).
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda r: other_hosts.append(r.url) if not r.url.startswith(base_url) else None,
    )
    page.goto("/auth/login")
    page.fill("input[name=username]", "zhangzhen")
    page.fill("input[name=password]", "demo1234")
    page.click(".narrow button[type=submit]")
    page.wait_for_url(f"{base_url}/")

    page.goto(f"/dashboard?year=2022&lang={lang}")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 2")
    legend = page.evaluate(
        "() => Object.values(Chart.instances).map(c => c.data.datasets.map(d => d.label)).flat()"
    )
    months = page.evaluate(
        "() => Object.values(Chart.instances).find(c => c.data.labels.length === 12).data.labels"
    )
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")

    assert chart_pixels(page, "chart-monthly") > 1000
    assert chart_pixels(page, "chart-restored") > 1000
    if lang == "zh":
        assert legend == ["问题发现", "整改完成", "复耕面积（亩）"] and months[0] == "1月"
    else:
        assert legend == ["Issues found", "Rectified", "Restored (mu)"] and months[0] == "Month 1"
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
    assert errors == [] and other_hosts == []
    context.close()
