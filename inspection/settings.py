"""Settings as data: each has a default and a help line; the README lists every one."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One configuration key, its default and what it is for."""

    name: str
    default: object
    help: str


SETTINGS = [
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL; default SQLite file instance/inspection.sqlite3. "
        "PostgreSQL + PostGIS: postgresql+psycopg://user:pass@host/db",
    ),
    Setting("SECRET_KEY", None, "Signs sessions; default a random key kept in instance/secret_key"),
    Setting(
        "TOWN_TIMEZONE",
        "Asia/Shanghai",
        "Time zone whose calendar days the history and year figures count by",
    ),
    Setting("BASEMAP", "none", "Basemap tiles: none, osm, tianditu or gaode"),
    Setting(
        "BASEMAP_REVIEW_NUMBER",
        "",
        "审图号 shown beside the basemap's attribution, as the provider gives it",
    ),
    Setting("TIANDITU_KEY", "", "天地图 key (tk) for the tianditu basemap"),
    Setting("LANGUAGE", "zh", "Default UI language: zh or en (users can switch)"),
    Setting("MAX_CONTENT_LENGTH", 32 * 1024 * 1024, "Largest request body in bytes (413 above)"),
    Setting(
        "MAX_FORM_MEMORY_SIZE",
        2 * 1024 * 1024,
        "Largest text field of a form in bytes, such as a pasted or drawn boundary (413 above)",
    ),
    Setting("MAX_VERTICES", 20000, "Most vertices a geometry may have"),
    Setting("PHOTO_MAX_BYTES", 20 * 1024 * 1024, "Largest photo file in bytes"),
    Setting("PHOTO_MAX_PIXELS", 40_000_000, "Largest photo in pixels (width × height)"),
    Setting(
        "ZIP_MAX_ENTRIES",
        1000,
        "Most files a ZIP upload or import (zipped Shapefile, KMZ, .xlsx) may hold; checked before unpacking",
    ),
    Setting(
        "ZIP_MAX_UNPACKED_BYTES",
        256 * 1024 * 1024,
        "Largest total unpacked size of a ZIP upload or import in bytes; checked before and while unpacking",
    ),
    Setting("PHOTO_DIR", None, "Where photos are stored; default instance/photos"),
    Setting(
        "BACKUP_MAX_UNPACKED_BYTES",
        64 * 1024**3,
        "Largest total size a backup archive may unpack to in `restore` (also at most 100 times "
        "the archive's size or 64 MiB, whichever is more); checked before each member is written",
    ),
    Setting("SQLITE_BUSY_MS", 10000, "How long a SQLite writer waits for the lock, in ms"),
    Setting("DB_POOL_SIZE", 10, "PostgreSQL connection pool size per worker"),
    Setting("SESSION_IDLE_MINUTES", 120, "Idle minutes after which a login session ends"),
    Setting(
        "SESSION_COOKIE_SECURE",
        False,
        "Mark session cookies Secure on every answer; turn on when the site is served over HTTPS",
    ),
    Setting(
        "PATROL_MAX_ACCURACY_M",
        50,
        "A patrol fix whose stated accuracy is worse than this many metres is dropped (accuracy)",
    ),
    Setting(
        "PATROL_MAX_SPEED_KMH",
        120,
        "A patrol fix implying more than this speed (km/h) from the last kept fix is dropped (speed)",
    ),
    Setting(
        "PATROL_MAX_GAP_S",
        600,
        "A gap of more than this many seconds between kept fixes starts a new segment",
    ),
    Setting(
        "PATROL_COVERAGE_RADIUS_M",
        30,
        "A group's area within this many metres of the period's kept tracks counts as covered",
    ),
    Setting(
        "PATROL_RETENTION_DAYS",
        730,
        "Patrols whose day is older than this many days are deleted by `flask purge-patrols`",
    ),
    Setting("PATROL_MAX_POINTS", 500_000, "Most fixes one patrol (a file or the phone's batches) may hold"),
    Setting("PATROL_MAX_FILE_BYTES", 32 * 1024 * 1024, "Largest patrol track file in bytes"),
    Setting(
        "PROXY_FIX_HOPS",
        0,
        "Proxies in front of the app (nginx: 1) whose X-Forwarded-For, -Proto and -Host are "
        "trusted for the client address, https and host; 0 ignores those headers",
    ),
    Setting(
        "PUBLIC_URL",
        "",
        "The address people open the app at (https://xuncha.example.gov.cn): links in alerts, "
        "webhook messages and the QR codes of documents; empty: the request's own address",
    ),
    Setting("RECHECK_DAYS", 90, "Days after a 违法 case is closed (销号) that its 回头看 re-check falls due"),
    Setting("RECHECK_WINDOW_DAYS", 30, "Days a 网格员 has to carry out a due 回头看"),
    Setting("ALERT_DIGEST_OVER", 5, "More alerts than this for one person in a day arrive as one digest"),
    Setting("WEBHOOK_TIMEOUT_S", 5, "Seconds a webhook receiver has to answer before the try counts as failed"),
    Setting("WEBHOOK_RETRY_BASE_S", 60, "First retry delay of a failed webhook delivery, doubled each try"),
    Setting("WEBHOOK_MAX_ATTEMPTS", 8, "Tries of one webhook delivery before it is given up"),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE",
        False,
        "Allow webhook URLs on private or loopback addresses (an intranet robot relay; tests)",
    ),
]

TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def defaults() -> dict:
    """The default value of every setting that has one."""
    return {s.name: s.default for s in SETTINGS if s.default is not None}


def from_environment(name: str, text: str) -> object:
    """A setting's value from an environment variable's text: a whole number or a yes/no like its default."""
    default = next((s.default for s in SETTINGS if s.name == name), None)
    if isinstance(default, bool):
        word = text.strip().lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise ValueError(f"{name} must be 1/true/yes/on or 0/false/no/off, not {text!r}")
        return word in TRUE_WORDS
    if not isinstance(default, int):
        return text
    try:
        return int(text.replace("_", "").strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None


def archive_limits(config) -> dict:
    """The ZIP limits a config sets, as the keyword arguments geodata's readers take."""
    return {
        "max_zip_entries": int(config["ZIP_MAX_ENTRIES"]),
        "max_unzipped_bytes": int(config["ZIP_MAX_UNPACKED_BYTES"]),
    }
