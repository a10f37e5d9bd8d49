"""Getting data in and out: reading and checking the organisers' spreadsheets (``readers``,
``cells``, ``contract``, ``mapping``), the import itself and its report (``engine``, ``report``),
export and backup, and the synthetic data generator (``synth``, ``synth_files``).

Builds on ``graph_schema`` only.
"""
