"""Pairings: one-to-one (cadre ↔ household) and auxiliary (organisation ↔ household), their rules
and history, the exclusion list (回避名单), and the workflows that combine them (``flows.py``)."""
