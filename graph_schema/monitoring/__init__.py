"""The monitoring lists and statistics, one report a module (its definitions in the docstring, a
frozen row dataclass, a ``Report`` record); ``catalogue.py`` lists them for the CLI and the APIs,
``risk.py`` holds the priority rules and risk score, ``common.py`` what the reports share."""
