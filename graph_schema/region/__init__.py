"""Regions (12-digit 区划代码) and their hierarchy: upsert, lookups, children, scope prefixes."""
