"""Households and their members (disabled persons): upsert with history, scoped lookups and lists."""
