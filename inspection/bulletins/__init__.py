"""The monthly 通报: per-village and per-网格员 figures, rates and 红黑榜 rankings (issue 19)."""
