"""The domain model of 结对帮扶 and the graph store it lives in.

Nothing here imports from ``api``, ``matching`` or ``importers``: they build on this package.
"""
