"""What every map of the app takes from the request: the basemap settings, today, the language,
the URLs and the map's words (shared by the map pages, the case page and the report forms)."""

from dataclasses import dataclass, field
from datetime import date

from flask import current_app, g, request, url_for
from flask_babel import gettext as _

from geodata import maps, tiles
from inspection import clock, vocab

REVIEW_NUMBER_SETTING = "BASEMAP_REVIEW_NUMBER"  # 审图号 shown beside the basemap's attribution


@dataclass(frozen=True)
class MapContext:
    """What a map needs from the request: settings, today, the UI language and URL templates."""

    basemap: str = "none"
    tianditu_key: str = ""
    review_number: str = ""
    today: date | None = None
    lang: str = "zh"
    static_url: str = "/static"
    data_url: str = "/map/data.geojson"
    cell_urls: dict | None = None  # level → URL template with {code}
    case_url: str = "/cases/{id}"
    town_url: str = "/map"
    text: maps.MapText = field(default_factory=maps.MapText)

    def basemap_or_none(self) -> tuple[tiles.Basemap, str | None]:
        """The configured basemap, or no tiles and the reason when the setting cannot work."""
        try:
            return tiles.basemap(
                self.basemap, tianditu_key=self.tianditu_key, review_number=self.review_number
            ), None
        except tiles.BasemapError as exc:
            return tiles.basemap("none"), str(exc)


def map_text(lang: str) -> maps.MapText:
    """The words of a map in the UI language (domain labels from vocab, the rest translated)."""
    return maps.MapText(
        lang=lang,
        groups={
            "open": _("Open (not yet done)"),
            "done": _("Done, awaiting check"),
            "verified": _("Verified and closed"),
            "void": _("Void (not substantiated)"),
        },
        kinds={kind: vocab.label(vocab.KINDS, kind, lang) for kind in vocab.KINDS},
        statuses={
            kind: {s: vocab.status_label(s, kind, lang) for s in vocab.STATUSES}
            for kind in vocab.KINDS
        },
        words={
            "legend": _("Legend"),
            "overdue": _("Overdue"),
            "deadline": _("Deadline"),
            "area": _("Area"),
            "mu": _("mu"),
            "colon": _(": "),
            "where": _("Village / group"),
            "open_case": _("Open the case"),
            "polygon": _("Parcel or building footprint"),
            "reported": _("Parcel as first reported"),
            "boundaries": _("Boundaries"),
            "shade": _("Shade by"),
            "shade_none": _("Nothing"),
            "shade_open": _("Open cases"),
            "shade_mu": _("Restored mu"),
            "shade_mu_year": _("Restored mu in {year}"),
            "load_error": _("The cases could not be loaded. Reload the page."),
            "full_screen": _("Full screen"),
            "exit_full_screen": _("Exit full screen"),
            "zoom_in": _("Zoom in"),
            "zoom_out": _("Zoom out"),
            "layers": _("Basemaps"),
            "credit": _("Map library: Leaflet"),
        },
    )


def context() -> MapContext:
    """The map context of this request: settings, today in the town, language and URLs."""
    config = current_app.config
    lang = getattr(g, "lang", "zh")

    def template(endpoint: str) -> str:
        return url_for(endpoint, code="__code__").replace("__code__", "{code}")

    return MapContext(
        basemap=config.get("BASEMAP", "none"),
        tianditu_key=config.get("TIANDITU_KEY", ""),
        review_number=config.get(REVIEW_NUMBER_SETTING, ""),
        today=clock.town_today(),
        lang=lang,
        static_url=url_for("static", filename="").rstrip("/"),
        data_url=url_for("maps.data"),
        cell_urls={"village": template("maps.village"), "group": template("maps.group")},
        case_url=request.script_root + "/cases/{id}",
        town_url=url_for("maps.town"),
        text=map_text(lang),
    )


def basemap() -> dict:
    """The configured basemap as data for the report maps (no tiles when the setting cannot work)."""
    config = current_app.config
    try:
        base = tiles.basemap(
            config.get("BASEMAP", "none"),
            tianditu_key=config.get("TIANDITU_KEY", ""),
            review_number=config.get(REVIEW_NUMBER_SETTING, ""),
        )
    except tiles.BasemapError:
        base = tiles.basemap("none")
    return base.js_config(getattr(g, "lang", "zh"))
