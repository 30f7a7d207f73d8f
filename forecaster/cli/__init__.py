"""The `forecaster` command: one module per command, wired to the library, no computation.

`app` holds what every command shares (exit codes, signals, one-line errors); `options`
the options several commands take.
"""

import importlib

from forecaster.cli.core import app, main

# Each module adds its command; imported in the order `forecaster --help` lists them.
for _command in ("train", "predict", "evaluate", "plot", "inspect", "info"):
    importlib.import_module(f"forecaster.cli.{_command}")

__all__ = ["app", "main"]
