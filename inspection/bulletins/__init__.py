"""The monthly 通报: per 村 and per 网格员 rates, 红黑榜, the paragraph, the page and downloads."""
