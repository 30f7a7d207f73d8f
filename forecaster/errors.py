"""Domain errors, each carrying the exit code the CLI turns it into.

Library code raises these with a message that names the problem and the fix; only the CLI
(`cli/core.py`) decides how they reach the user.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_MODEL = 4
EXIT_INTERRUPTED = 130


class ForecasterError(Exception):
    """Base class: an error the user can act on, shown as one line."""

    exit_code = EXIT_FAILURE


class UsageError(ForecasterError):
    """An option or its value cannot work (for example a lookback longer than every series)."""

    exit_code = EXIT_USAGE


class DataError(ForecasterError):
    """The input data cannot be turned into regular series."""

    exit_code = EXIT_DATA


class ModelFileError(ForecasterError):
    """A model file is missing, damaged, tampered with or from an incompatible version."""

    exit_code = EXIT_MODEL


class TrainingDiverged(ForecasterError):
    """The loss became NaN or infinite; nothing is saved."""

    exit_code = EXIT_FAILURE
