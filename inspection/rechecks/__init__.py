"""回头看: re-check tasks some days after a 违法 case is closed, and 复发 when the problem is back."""
