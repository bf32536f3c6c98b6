"""卫片图斑核查: batches of change polygons imported, matched to cases, dispatched as 核查 tasks (issue 18)."""
