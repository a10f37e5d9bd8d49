"""The assistance ledger (帮扶台账) as ``ASSISTED`` edges, and the problems it opens and closes."""
