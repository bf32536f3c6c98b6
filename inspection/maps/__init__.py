"""Case maps of the town, a village and a group: their data, the JSON feed and the map pages."""
