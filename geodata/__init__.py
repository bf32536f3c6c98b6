"""Pure GIS for 网格巡查: geometry, CRS, area, grid and maps; no Flask, no database."""
