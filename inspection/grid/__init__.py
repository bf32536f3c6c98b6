"""The 镇/村/组 grid: cells and their boundaries, import-grid, placing a geometry in its cells."""
