"""Cadres (干部编号 as key): upsert, scoped lookups and lists; their pairings are in ``pairing``."""
