"""What map layers look like: a colour per status group, a shape per kind, and the words shown."""

from dataclasses import dataclass, field

# Legend groups: each status falls in exactly one (mirrors inspection.vocab.MAP_GROUPS).
MAP_GROUPS = {
    "reported": "open",
    "assigned": "open",
    "in_progress": "open",
    "done": "done",
    "verified": "verified",
    "void": "void",
}
GROUP_COLORS = {"open": "#d9480f", "done": "#2b8a3e", "verified": "#1971c2", "void": "#868e96"}
OVERDUE_COLOR = "#e03131"
KIND_SHAPES = {"issue": "circle", "illegal_building": "square", "farmland": "diamond"}
OUTLINE_COLOR = "#5b6573"  # a parcel as first reported, drawn dashed under the one that stands now
LABEL_PLACES = ("inside", "top")  # a cell's label: at a point inside it, or atop its part in view
POLYGON_MIN_ZOOM = (
    13  # below it (a whole town in view) polygon cases are drawn, and clustered, as points
)


@dataclass(frozen=True)
class MapText:
    """The words a map shows, in one language (English defaults; the app passes its own)."""

    lang: str = "en"
    groups: dict = field(
        default_factory=lambda: {
            "open": "Open",
            "done": "Done",
            "verified": "Verified",
            "void": "Void",
        }
    )
    kinds: dict = field(
        default_factory=lambda: {
            "issue": "Issue",
            "illegal_building": "Illegal building",
            "farmland": "Farmland restoration",
        }
    )
    statuses: dict = field(default_factory=dict)  # kind → status → label (else the group's)
    words: dict = field(
        default_factory=lambda: {
            "legend": "Legend",
            "overdue": "Overdue",
            "deadline": "Deadline",
            "area": "Area",
            "mu": "mu",
            "where": "Village / group",
            "open_case": "Open the case",
            "polygon": "Parcel or footprint",
            "reported": "Parcel as first reported",
            "boundaries": "Boundaries",
            "shade": "Shade",
            "shade_none": "None",
            "shade_open": "Open cases",
            "shade_mu": "Restored mu",
            "shade_mu_year": "Restored mu in {year}",
            "load_error": "Could not load the cases",
            "full_screen": "Full screen",
            "exit_full_screen": "Exit full screen",
            "zoom_in": "Zoom in",
            "zoom_out": "Zoom out",
            "layers": "Basemaps",
            "credit": "Map library: Leaflet",
        }
    )

    def js(self) -> dict:
        """The words as plain data for map.js."""
        return {
            "groups": self.groups,
            "kinds": self.kinds,
            "statuses": self.statuses,
            "words": self.words,
        }
