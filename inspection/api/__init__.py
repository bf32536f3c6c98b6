"""OGC API – Features for GIS clients: landing, conformance, OpenAPI, collections, items, Bearer tokens."""
