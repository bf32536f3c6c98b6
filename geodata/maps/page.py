"""A rendered map as page parts (<head> links, the <div>, the script), every asset served locally."""

import re
from dataclasses import dataclass

import folium

from geodata import assets

# folium's page-wide rules would restyle our layout around the map; its own #id rule stays.
_PAGE_RULES = re.compile(
    r'<meta name="viewport"[^>]*>|<style>\s*html, body \{.*?</style>|<style>\s*#map \{.*?</style>',
    re.S,
)


@dataclass(frozen=True)
class MapParts:
    """The three pieces of a rendered map to embed in a page: <head> links, the <div>, the script."""

    header: str
    html: str
    script: str


def map_parts(m: folium.Map, static_url: str = "/static") -> MapParts:
    """Render a map into header, body and script parts, every asset served from static_url."""
    assets.localize(m, f"{static_url.rstrip('/')}/vendor")
    root = m.get_root()
    root.render()
    header = _PAGE_RULES.sub("", root.header.render())
    html = root.html.render()
    external = assets.external_asset_urls(header + html)
    if external:
        raise assets.ExternalAssetError(
            "The map still loads from the internet: " + ", ".join(external)
        )
    return MapParts(header.strip(), html.strip(), root.script.render().strip())
