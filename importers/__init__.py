"""Getting data in: readers of the organisers' spreadsheets and the synthetic data generator.

Builds on ``graph_schema`` only.
"""
