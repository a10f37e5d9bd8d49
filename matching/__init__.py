"""Optimal one-to-one pairing proposals (cadre ↔ household) by min-cost flow: the cost model, the
candidate arcs, the solvers and the explanations are pure functions; ``service.py`` alone reads the
store (through ``graph_schema``) and writes confirmed proposals.
"""
