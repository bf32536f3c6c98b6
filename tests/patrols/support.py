"""What the patrol tests share: track files written by hand, walks in the seeded town, a user's id."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from inspection import db
from inspection.accounts.models import User

START = datetime(2024, 5, 6, 0, 30, tzinfo=UTC)  # 08:30 in the town (Asia/Shanghai)


def walk(n: int = 11, *, lon0=113.001, lat0=30.001, step_lat=0.0001, every_s=10, start=START):
    """n fixes walking north (≈ 11.1 m a step, 10 s apart): lon, lat degrees, aware UTC times."""
    return [(lon0, lat0 + i * step_lat, start + timedelta(seconds=i * every_s)) for i in range(n)]


def gpx(*segments, accuracy=None) -> bytes:
    """A GPX 1.1 file of one track with these segments of (lon, lat, time or None) fixes.

    `accuracy` maps a fix's index within its segment to an <accuracy> extension in metres.
    """
    parts = []
    for fixes in segments:
        points = []
        for i, (lon, lat, at) in enumerate(fixes):
            time = f"<time>{at.isoformat().replace('+00:00', 'Z')}</time>" if at else ""
            extra = ""
            if accuracy and i in accuracy:
                extra = f"<extensions><accuracy>{accuracy[i]}</accuracy></extensions>"
            points.append(f'<trkpt lat="{lat!r}" lon="{lon!r}">{time}{extra}</trkpt>')
        parts.append("<trkseg>" + "".join(points) + "</trkseg>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        "<trk><name>巡查</name>" + "".join(parts) + "</trk></gpx>"
    ).encode()


def user_id(app, username: str) -> int:
    """The id of a seeded user."""
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def batch(fixes, batch_id="b-0000001"):
    """A batch body as the phone sends it: fixes [lon, lat, t ms, accuracy m] from (lon, lat, time)."""
    return {
        "batch_id": batch_id,
        "fixes": [[lon, lat, int(at.timestamp() * 1000), 8.0] for lon, lat, at in fixes],
    }


def post_json(client, url, body, token):
    """POST a JSON body with the page's CSRF token in the header, as patrol.js does."""
    return client.post(url, json=body, headers={"X-CSRFToken": token})
