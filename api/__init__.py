"""The ways people reach the system: the ``jiedui`` command line (and, later, REST and GraphQL)."""
