"""Figures: the start page, year figures and 年度小结, the dashboard, ledgers and GIS exports."""
