"""Judge a load run: no failed request, pages' p95 under 300 ms and patrol batches' under 100 ms, every
report once, every assign once, every answered patrol batch stored once.

`python -m load.check STATS_CSV LEDGER_JSON DATABASE_URL RUN_ID` prints a table and exits 1 on a miss.
"""

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from inspection.cases.models import Case, StatusChange
from inspection.patrols.models import Patrol, PatrolBatch

PAGE_P95_MS = 300
BATCH_P95_MS = 100  # storing one 1,000-fix patrol batch (issue 17)


@dataclass
class Row:
    """One request name's figures from locust's statistics."""

    name: str
    count: int
    failures: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def read_stats(path: Path) -> list[Row]:
    """The rows of locust's <prefix>_stats.csv, the Aggregated row last."""
    with path.open(newline="") as f:
        return [
            Row(
                name=r["Name"],
                count=int(r["Request Count"]),
                failures=int(r["Failure Count"]),
                median_ms=float(r["Median Response Time"] or 0),
                p95_ms=float(r["95%"] if r["95%"] not in ("", "N/A") else 0),
                p99_ms=float(r["99%"] if r["99%"] not in ("", "N/A") else 0),
                max_ms=float(r["Max Response Time"] or 0),
            )
            for r in csv.DictReader(f)
        ]


def case_counts(database_url: str, run_id: str) -> dict:
    """This run's cases: their client ids, how many lack a photo, and assign steps per case id."""
    engine = create_engine(database_url)
    prefix = f"load-{run_id}-%"
    with Session(engine) as session:
        ids = set(session.scalars(select(Case.client_id).where(Case.client_id.like(prefix))))
        without_photo = session.scalar(
            select(func.count(Case.id)).where(Case.client_id.like(prefix), ~Case.photos.any())
        )
        total = session.scalar(select(func.count(Case.id)))
        assigns = dict(
            session.execute(
                select(StatusChange.case_id, func.count(StatusChange.id))
                .join(Case, Case.id == StatusChange.case_id)
                .where(Case.client_id.like(prefix), StatusChange.to_status == "assigned")
                .group_by(StatusChange.case_id)
            ).all()
        )
        batches: dict[str, dict[str, int]] = {}
        for patrol, batch, fixes in session.execute(
            select(Patrol.client_id, PatrolBatch.client_id, PatrolBatch.fixes)
            .join(PatrolBatch, PatrolBatch.patrol_id == Patrol.id)
            .where(Patrol.client_id.like(prefix))
        ):
            batches.setdefault(patrol, {})[batch] = batches.get(patrol, {}).get(batch, 0) + fixes
    engine.dispose()
    return {
        "client_ids": ids,
        "without_photo": without_photo,
        "total": total,
        "assigns": assigns,
        "patrols": batches,
    }


def judge(rows: list[Row], ledger: dict, cases: dict) -> list[str]:
    """Every way the run missed its bar, as sentences; empty when it passed."""
    misses = []
    for row in rows:
        if row.failures:
            misses.append(f"{row.failures} failed requests: {row.name}")
        if row.name.startswith("page ") and row.p95_ms >= PAGE_P95_MS:
            misses.append(f"p95 {row.p95_ms:.0f} ms ≥ {PAGE_P95_MS} ms: {row.name}")
        if row.name.startswith("patrol batch (") and row.p95_ms >= BATCH_P95_MS:
            misses.append(f"p95 {row.p95_ms:.0f} ms ≥ {BATCH_P95_MS} ms: {row.name}")
    submitted = set(ledger["submitted"])
    stored = cases["client_ids"]
    if stored - submitted:
        misses.append(f"{len(stored - submitted)} cases no client saw created")
    if submitted - stored:
        misses.append(f"{len(submitted - stored)} answered reports are missing (lost)")
    assigned = {int(path.rsplit("/", 1)[1]) for path in ledger.get("assigned", [])}
    if assigned - set(cases["assigns"]):
        misses.append(
            f"{len(assigned - set(cases['assigns']))} answered assigns are missing (lost)"
        )
    if any(n > 1 for n in cases["assigns"].values()):
        misses.append("a case was assigned twice (doubled)")
    sent, stored_batches = ledger.get("patrols", {}), cases.get("patrols", {})
    lost = sum(1 for p, b in sent.items() for batch in b if batch not in stored_batches.get(p, {}))
    if lost:
        misses.append(f"{lost} answered patrol batches are missing (lost)")
    doubled = sum(
        1
        for p, b in stored_batches.items()
        for batch, n in b.items()
        if n != sent.get(p, {}).get(batch, n)
    )
    if doubled:
        misses.append(f"{doubled} patrol batches stored with other fix counts than sent (doubled)")
    if cases["without_photo"]:
        misses.append(f"{cases['without_photo']} cases have no photo (half-written)")
    return misses


def print_table(rows: list[Row], ledger: dict, cases: dict, out=sys.stdout) -> None:
    """The statistics per request name, then the case count against the distinct reports."""
    print(
        f"{'request':44} {'n':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7}", file=out
    )
    for r in rows:
        print(
            f"{r.name[:44]:44} {r.count:6d} {r.failures:5d} {r.median_ms:6.0f} {r.p95_ms:6.0f}"
            f" {r.p99_ms:6.0f} {r.max_ms:7.0f}",
            file=out,
        )
    print(
        f"reports answered (distinct client ids): {len(ledger['submitted'])}, "
        f"sent again with the same id: {len(ledger['retried'])}; "
        f"cases of this run stored: {len(cases['client_ids'])}, without a photo: "
        f"{cases['without_photo']}; all cases now: {cases['total']}; assigned by supervisors: "
        f"{len(ledger.get('assigned', []))} answered, {len(cases['assigns'])} stored; patrol batches: "
        f"{sum(map(len, ledger.get('patrols', {}).values()))} answered, "
        f"{sum(map(len, cases.get('patrols', {}).values()))} stored",
        file=out,
    )


def main(argv: list[str]) -> int:
    """Check one run; 0 when it passed, 1 when it missed."""
    stats, ledger_path, database_url, run_id = argv
    rows = read_stats(Path(stats))
    ledger = json.loads(Path(ledger_path).read_text())
    cases = case_counts(database_url, run_id)
    print_table(rows, ledger, cases)
    misses = judge(rows, ledger, cases)
    for miss in misses:
        print(f"MISS: {miss}")
    print("PASS" if not misses else "FAIL")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
