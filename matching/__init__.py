"""Optimal one-to-one pairing proposals (cadre ↔ household) by min-cost flow. Builds on ``graph_schema``."""
