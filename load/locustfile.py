"""Locust users for `make load`: 网格员 reporting with photos (and retrying), supervisors confirming and
assigning those reports, county staff reading every town through pages and the API, one exporter,
and LOAD_PATROLLERS 网格员 on patrol sending 1,000-fix batches (some sent twice).
Users are spread over the towns of the plan.

Runs in .venv-load (locust only). The plan (logins, points, photos, where to note submissions)
comes from the JSON file named by LOAD_PLAN, written by load/run.py for a fresh demo town.
"""

import json
import math
import os
import random
import re
import time
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CASE_URL = re.compile(r"/cases/(\d+)$")
RETRY_SHARE = 0.25  # this share of reports is sent a second time, as a phone on a bad network does
ATTEMPTS = 3  # a report whose answer was lost is sent again with the same client id

ASSIGN_FORM = re.compile(
    r'action="(/cases/\d+/actions/assign)".*?name="csrf_token" value="([^"]+)".*?'
    r'name="expected_version" value="(\d+)".*?<option value="(\d+)"',
    re.S,
)

# client_id -> case path of every report that got its answer; written when the test stops.
SUBMITTED: dict[str, str] = {}
RETRIED: list[str] = []
# town code -> reported cases waiting for its supervisors; case paths assigned (each once).
WAITING: dict[str, list[str]] = {}
ASSIGNED: list[str] = []
# patrol client id -> {batch client id: fixes} of every batch that got its answer.
PATROLS: dict[str, dict[str, int]] = {}
BATCH_FIXES = 1000  # a phone that was offline for about 80 minutes at one fix per 5 s
BATCHES_PER_PATROL = 3
PATROL_CSRF = re.compile(r'data-csrf="([^"]+)"')


@events.test_stop.add_listener
def _write_ledger(**_kwargs):
    Path(PLAN["ledger"]).write_text(
        json.dumps(
            {"submitted": SUBMITTED, "retried": RETRIED, "assigned": ASSIGNED, "patrols": PATROLS},
            ensure_ascii=False,
        )
    )


class Staff(HttpUser):
    """A logged-in user of the demo town."""

    abstract = True
    username = ""

    def on_start(self):
        """Log in through the real form."""
        self.login(self.username)

    def login(self, username: str) -> None:
        """Post the login form with its CSRF token."""
        page = self.client.get("/auth/login", name="page /auth/login")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/auth/login",
            data={"username": username, "password": PLAN["password"], "csrf_token": token},
            name="login",
        )

    def page(self, path: str, name: str):
        """GET a page (or the data a page loads), named for the statistics as 'page …'."""
        return self.client.get(path, name=f"page {name}")


class GridMember(Staff):
    """A 网格员: opens the report form, reports an issue with a photo, looks at it and the list."""

    weight = 30
    wait_time = between(3, 10)  # reading the page, walking to the next place

    def on_start(self):
        """Take one of the town's 网格员 and a point in his group."""
        member = random.choice(PLAN["members"])
        self.username, self.point, self.town = member["username"], member["point"], member["town"]
        super().on_start()

    @task(4)
    def report(self):
        """Open the form, send a report with a photo (again on a lost answer), maybe retry it."""
        form = self.page("/cases/new/issue", "/cases/new/[kind]")
        match = CSRF.search(form.text)
        if match is None:
            return
        client_id = f"load-{PLAN['run']}-{uuid.uuid4().hex}"
        photo = Path(random.choice(PLAN["photos"])).read_bytes()
        fields = {
            "csrf_token": match.group(1),
            "client_id": client_id,
            "category": random.choice(["garbage", "sewage", "other"]),
            "source": "patrol",
            "title": "负载测试上报",
            "geometry": self.point,
            "crs": "EPSG:4326",
        }
        location = None
        for _ in range(ATTEMPTS):
            location = self.submit(fields, photo, "submit")
            if location is not None:
                break
        if location is None:
            return
        SUBMITTED[client_id] = location
        WAITING.setdefault(self.town, []).append(location)
        if random.random() < RETRY_SHARE:
            again = self.submit(fields, photo, "submit again (same client id)")
            RETRIED.append(client_id)
            if again is not None and again != location:
                raise AssertionError(f"retry of {client_id} went to {again}, not {location}")
        self.page(location, "/cases/[id]")

    def submit(self, fields: dict, photo: bytes, name: str) -> str | None:
        """Post the report; the case's path on a 303, else None (counted as a failure)."""
        files = {"photos": ("photo.jpg", photo, "image/jpeg")}
        with self.client.post(
            "/cases/new/issue",
            data=fields,
            files=files,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            path = "/" + location.split("/", 3)[-1] if "://" in location else location
            if response.status_code == 303 and CASE_URL.search(path):
                response.success()
                return path
            response.failure(f"{response.status_code} {response.headers.get('X-Report-Error')}")
            return None

    @task(2)
    def browse_own(self):
        """The case list and the map of his own group."""
        self.page("/cases", "/cases")
        self.page("/map", "/map (own group)")


class Supervisor(Staff):
    """A 镇领导 of one town: its maps and data, the dashboard, the year figures, assigning reports."""

    weight = 9
    wait_time = between(2, 6)

    def on_start(self):
        """Take a supervisor login and his town."""
        supervisor = random.choice(PLAN["supervisors"])
        self.username, self.town = supervisor["username"], PLAN["towns"][supervisor["town"]]
        self.town_code = supervisor["town"]
        super().on_start()

    @task(3)
    def town_map(self):
        """The town map and the cases it loads for the whole town."""
        self.page("/map", "/map")
        bbox = ",".join(f"{v:.5f}" for v in self.town["bbox"])
        self.page(f"/map/data.geojson?bbox={bbox}&zoom=13", "/map/data.geojson")

    @task(2)
    def village_map(self):
        """A village's map."""
        self.page(f"/map/village/{random.choice(self.town['villages'])}", "/map/village/[code]")

    @task(3)
    def dashboard(self):
        """The dashboard."""
        self.page("/dashboard", "/dashboard")

    @task(1)
    def year_report(self):
        """The 2022 figures and paragraph."""
        self.page("/report?year=2022", "/report")

    @task(2)
    def lists(self):
        """The town page and the case list."""
        self.page("/", "/")
        self.page("/cases", "/cases")

    @task(2)
    def assign(self):
        """Confirm and assign a waiting report of his town (核实交办) through the case page's form."""
        waiting = WAITING.get(self.town_code)
        if not waiting:
            return
        path = waiting.pop(0)
        page = self.page(path, "/cases/[id] (to assign)")
        match = ASSIGN_FORM.search(page.text)
        if match is None:
            return  # assigned meanwhile by another supervisor of the town
        action, token, version, responsible = match.groups()
        fields = {
            "csrf_token": token,
            "expected_version": version,
            "responsible": responsible,
            "deadline_on": "",
            "note": "负载测试交办",
        }
        with self.client.post(
            action, data=fields, name="action assign", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 303:
                response.success()
                ASSIGNED.append(path)
            elif response.status_code == 409:
                response.success()  # another supervisor was first: told, nothing overwritten
            else:
                response.failure(f"{response.status_code} {response.headers.get('X-Action-Error')}")


class CountyStaff(Staff):
    """县级人员: the county's pages and the OGC API over any town, read only."""

    weight = 2
    wait_time = between(2, 6)

    def on_start(self):
        """Take a county login (or a supervisor's when the plan has no county)."""
        if PLAN["county_users"]:
            self.username = random.choice(PLAN["county_users"])
        else:
            self.username = random.choice(PLAN["supervisors"])["username"]
        super().on_start()

    @task(3)
    def api_items(self):
        """OGC API items of one town's extent, 1,000 at most."""
        town = random.choice(list(PLAN["towns"].values()))
        bbox = ",".join(f"{v:.5f}" for v in town["bbox"])
        collection = random.choice(["issues", "illegal_buildings", "farmland"])
        self.client.get(
            f"/api/collections/{collection}/items?bbox={bbox}&limit=1000",
            name="api /collections/[c]/items?bbox",
        )

    @task(2)
    def overview(self):
        """The home page, the case list and the dashboard over every town."""
        self.page("/", "/ (county)")
        self.page("/cases", "/cases (county)")
        self.page("/dashboard", "/dashboard (county)")


class Exporter(Staff):
    """One supervisor downloading ledgers and GIS files, one after another."""

    fixed_count = 1
    wait_time = between(2, 4)

    def on_start(self):
        """Take a supervisor login."""
        self.username = PLAN["supervisors"][0]["username"]
        super().on_start()

    @task
    def export(self):
        """A ledger of one kind in one format."""
        fmt = random.choice(["xlsx", "csv", "geojson", "gpkg", "shp", "kml"])
        kinds = ["issue", "illegal_building", "farmland"] + ([] if fmt == "csv" else ["all"])
        kind = random.choice(kinds)  # a CSV ledger holds one kind
        self.client.get(f"/ledgers/{kind}.{fmt}", name=f"export [kind].{fmt}")


class Patroller(Staff):
    """A 网格员 on patrol: 1,000-fix batches walking around his group, a share sent twice, then 结束巡查."""

    fixed_count = int(os.environ.get("LOAD_PATROLLERS") or "0")
    abstract = fixed_count == 0  # no patrollers unless asked for
    wait_time = between(5, 15)

    def on_start(self):
        """Take one of the town's 网格员, open the patrol page for its token, start a patrol."""
        member = random.choice(PLAN["members"])
        self.username = member["username"]
        self.lon, self.lat = (float(v) for v in member["point"].split(","))
        super().on_start()
        page = self.page("/patrols/record", "/patrols/record")
        match = PATROL_CSRF.search(page.text)
        self.csrf = match.group(1) if match else ""
        self.start_patrol()

    def start_patrol(self) -> None:
        """A new patrol: its client id, its first fix's time (in the past, one fix per 5 s)."""
        self.patrol = f"load-{PLAN['run']}-{uuid.uuid4().hex[:16]}"
        self.batches = 0
        self.t_ms = int((time.time() - BATCH_FIXES * BATCHES_PER_PATROL * 5 - 600) * 1000)
        self.step = 0

    def fixes(self) -> list[list[float]]:
        """The next 1,000 fixes: a slow loop around the group's point (about 1 m/s), accuracy 8 m."""
        out = []
        for _ in range(BATCH_FIXES):
            angle = self.step / 300 * 2 * math.pi
            out.append(
                [
                    self.lon + 0.002 * math.cos(angle),
                    self.lat + 0.002 * math.sin(angle),
                    self.t_ms,
                    8.0,
                ]
            )
            self.step += 1
            self.t_ms += 5000
        return out

    def post(self, path: str, body: dict, name: str) -> bool:
        """POST JSON with the page's CSRF token; True on 200."""
        headers = {"X-CSRFToken": self.csrf}
        with self.client.post(
            path, json=body, headers=headers, name=name, catch_response=True
        ) as r:
            if r.status_code == 200:
                r.success()
                return True
            r.failure(f"{r.status_code} {r.text[:120]}")
            return False

    @task
    def send(self):
        """Send the next batch (again on a lost answer, and a share of them twice); end after three."""
        batch_id, fixes = uuid.uuid4().hex[:16], self.fixes()
        body = {"batch_id": batch_id, "fixes": fixes}
        path = f"/patrols/record/{self.patrol}/batches"
        for _ in range(ATTEMPTS):
            if self.post(path, body, f"patrol batch ({BATCH_FIXES} fixes)"):
                PATROLS.setdefault(self.patrol, {})[batch_id] = len(fixes)
                break
        if random.random() < RETRY_SHARE:
            self.post(path, body, "patrol batch again (same batch id)")
        self.batches += 1
        if self.batches >= BATCHES_PER_PATROL:
            self.post(f"/patrols/record/{self.patrol}/end", {}, "patrol end")
            self.start_patrol()
